import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlan } from '../../../src/arch';
import { fingerprintOf, mismatchOf, roleOf } from '../../../src/arch/fingerprint';
import { calibrateLabels, readCalibration, writeCalibration } from '../../../src/calibrate/file';
import { loadBenchmark } from '../../../src/eval/benchmarks';
import { benchmarkPlans } from '../../../src/eval/evaluate';
import { score } from '../../../src/proxy/score';
import { zerolmRejectionOf } from '../../helpers/zerolm-error';

const work = mkdtempSync(join(tmpdir(), 'zerolm-fingerprint-'));
const bert = loadBenchmark('nas-bench-bert');
const bertPlans = benchmarkPlans(bert);
const gpt2 = loadBenchmark('lts-gpt2-wt103');

describe('space fingerprints', () => {
  it('a matrix role is its name without the layer index', () => {
    expect(roleOf('layers.12.attention.query')).toBe('attention.query');
    expect(roleOf('embeddings.word')).toBe('embeddings.word');
  });

  it('every architecture of the space it was made from matches; another family, depth or width does not', () => {
    const fingerprint = fingerprintOf(bertPlans);
    expect(fingerprint).toMatchObject({ family: 'nas-bench-bert', build: 'as-trained', layers: [2, 4] });
    expect(fingerprint.roles['attention.query']).toEqual({ rows: [128, 256], cols: [128, 256] });
    for (const plan of bertPlans) expect(mismatchOf(plan, fingerprint)).toBeUndefined();
    expect(mismatchOf(buildPlan(gpt2.entries[0].architecture), fingerprint)).toMatch(/^family gpt2-flex, calibrated on nas-bench-bert/);
    const layer = { operation_type: 'SA', operation_parameter: 'SDP', num_operation_heads: 2, feed_forward_dimension: 512, num_feed_forward: 1 };
    const deep = buildPlan({ hidden_size: 128, nas_config: { encoder_layers: Array(6).fill(layer) } });
    expect(mismatchOf(deep, fingerprint)).toBe('6 layers, calibrated on 2-4');
    const wide = buildPlan({ hidden_size: 512, nas_config: { encoder_layers: [layer, layer] } });
    expect(mismatchOf(wide, fingerprint)).toMatch(/^matrix layers\.0\.attention\.query is 512 x 512, calibrated on attention\.query of 128-256 x 128-256/);
    expect(mismatchOf(buildPlan(bert.entries[0].architecture, { build: 'lpzero' }), fingerprint)).toBe('build lpzero, calibrated on as-trained');
  });
});

describe('calibrating on your own labels', () => {
  const lines = gpt2.entries.slice(0, 40).map((e) => ({ architecture: e.architecture, label: e.label, id: e.id }));

  it('reads JSONL, fits alpha, and records the labels file and the space', async () => {
    const file = join(work, 'labels.jsonl');
    writeFileSync(file, lines.map((l, i) => JSON.stringify(i === 0 ? { ...l, higherIsBetter: false } : l)).join('\n'));
    const calibration = await calibrateLabels(file, { mode: 'analytic' });
    expect(calibration).toMatchObject({ benchmark: null, labels: file, family: 'gpt2-flex', build: 'default', rule: 'weighted-sum', sampleSize: 40 });
    expect(calibration.sampleIds).toHaveLength(40);
    expect(calibration.space?.family).toBe('gpt2-flex');
    // The file round-trips, and the space it records accepts the architectures it was fitted on.
    const out = join(work, 'calibration.json');
    await writeCalibration(out, calibration);
    const read = await readCalibration(out);
    const scored = await score(gpt2.entries[1].architecture, { mode: 'analytic', alpha: read.alpha, calibration: { file: out, space: read.space } });
    expect((scored as unknown as { calibration: unknown }).calibration).toEqual({ file: out, matches: true });
    const foreign = await score(bert.entries[0].architecture, { mode: 'analytic', alpha: read.alpha, calibration: { file: out, space: read.space } });
    expect((foreign as unknown as { calibration: { matches: boolean; why: string } }).calibration).toMatchObject({ matches: false, why: expect.stringMatching(/family nas-bench-bert/) });
  });

  it('reads CSV with architecture paths relative to it', async () => {
    const dir = mkdtempSync(join(work, 'csv-'));
    const rows = ['id,architecture,label'];
    lines.slice(0, 10).forEach((l, i) => {
      writeFileSync(join(dir, `a${i}.json`), JSON.stringify(l.architecture));
      rows.push(`${l.id},a${i}.json,${l.label}`);
    });
    writeFileSync(join(dir, 'labels.csv'), `${rows.join('\n')}\n`);
    const calibration = await calibrateLabels(join(dir, 'labels.csv'), { mode: 'analytic', higherIsBetter: false });
    expect(calibration.sampleIds.sort()).toEqual(lines.slice(0, 10).map((l) => l.id).sort());
  });

  it('refuses labels that do not say their direction, or that are not numbers, naming file and line', async () => {
    const file = join(work, 'undirected.jsonl');
    writeFileSync(file, lines.slice(0, 5).map((l) => JSON.stringify(l)).join('\n'));
    expect((await zerolmRejectionOf(() => calibrateLabels(file, { mode: 'analytic' }))).message).toMatch(/does not say whether a higher label is better/);
    const bad = join(work, 'bad.jsonl');
    writeFileSync(bad, [JSON.stringify(lines[0]), JSON.stringify({ ...lines[1], label: 'high' })].join('\n'));
    const error = await zerolmRejectionOf(() => calibrateLabels(bad, { mode: 'analytic', higherIsBetter: false }));
    expect(error.message).toMatch(/bad\.jsonl: line 2: label must be a finite number/);
    expect(error.location).toMatchObject({ line: 2, field: 'label' });
  });
});
