/** The CLI driven as a user drives it: a real node process on the compiled package (npm test compiles first). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { measureNames } from '../../src/capacity/measures';
import { scoreMany } from '../../src/proxy/many';
import { sampleSpace } from '../../src/search/sample';

const sampleLines = (space: string, count: number, seed: number): string =>
  [...sampleSpace(space, { count, seed })].map((architecture) => `${JSON.stringify(architecture)}\n`).join('');

const root = resolve(__dirname, '../..');
const cli = join(root, 'dist/cli/main.js');
const work = mkdtempSync(join(tmpdir(), 'zerolm-e2e-'));

function zerolm(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd: root, input, encoding: 'utf8', maxBuffer: 1 << 28 });
  const lines = result.stdout.split('\n').filter(Boolean);
  const records = () => lines.map((l) => JSON.parse(l));
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, lines, get records() { return records(); } };
}

describe('zerolm score', () => {
  it.each(measureNames)('scores all 500 nas-bench-bert entries and all 200 LTS configs with %s', (measure) => {
    const bert = zerolm(['score', join(root, 'data/benchmarks/nas-bench-bert/BERT_benchmark.json'), '--measure', measure]);
    expect(bert.stderr).toBe('');
    expect(bert.status).toBe(0);
    expect(bert.records).toHaveLength(500);
    for (const record of bert.records) {
      expect(Number.isFinite(record.score)).toBe(true);
      expect(record).toMatchObject({ measure, build: 'as-trained', family: 'nas-bench-bert' });
      expect(Object.keys(record)).toEqual(expect.arrayContaining(['id', 'score', 'attention', 'ffn', 'params', 'nonEmbeddingParams', 'measure', 'alpha', 'build', 'layers']));
    }
    expect(bert.records.map((r) => r.id)).toEqual(Array.from({ length: 500 }, (_, i) => String(i)));
    const lts = zerolm(['score', '--benchmark', 'lts-gpt2-wt103', '--measure', measure]);
    expect(lts.status).toBe(0);
    expect(lts.records).toHaveLength(200);
    expect(lts.records.every((r) => Number.isFinite(r.score) && r.family === 'gpt2-flex')).toBe(true);
  });

  it('reads an LTS model_config.yaml file directly', () => {
    const result = zerolm(['score', join(root, 'data/benchmarks/lts-gpt2-wt103/config_0/j0/model_config.yaml')]);
    expect(result.status).toBe(0);
    expect(result.records).toHaveLength(1);
    expect(result.records[0].params).toBe(8505006); // params_summary.yaml total for config_0_j0
  });

  it('keeps going past bad inputs: one record per line, errors named by line, non-zero exit', () => {
    const good = JSON.stringify({ id: 'g', hidden_size: 128, nas_config: { encoder_layers: [{ operation_type: 'SA', operation_parameter: 'SDP', num_operation_heads: 2, feed_forward_dimension: 512, num_feed_forward: 1 }] } });
    const input = [good, '{"id": "broken", ', JSON.stringify({ id: 'neg', hidden_size: -128, nas_config: { encoder_layers: [] } }), good].join('\n');
    const result = zerolm(['score', '-', '--format', 'jsonl'], input);
    expect(result.status).toBe(1);
    expect(result.records).toHaveLength(4);
    expect(result.records[0].score).toBeDefined();
    expect(result.records[1]).toMatchObject({ line: 2, error: { code: 'E_PARSE' } });
    expect(result.records[2]).toMatchObject({ id: 'neg', line: 3 });
    expect(result.records[2].error.message).toMatch(/hidden_size/);
    expect(result.records[3].score).toBe(result.records[0].score);
    expect(result.stderr).toMatch(/<stdin>:2: E_PARSE/);
    expect(result.stderr).toMatch(/2 scored, 2 failed/);
  });

  it('refuses a NaN alpha and an unknown family before reading anything', () => {
    const nan = zerolm(['score', '--alpha', 'NaN'], '{}');
    expect(nan.status).not.toBe(0);
    expect(nan.stderr).toMatch(/--alpha must be a finite number/);
    const family = zerolm(['score', '--family', 'rnn'], '{}');
    expect(family.status).not.toBe(0);
    expect(family.stderr).toMatch(/Allowed choices are nas-bench-bert, gpt2-flex, transformer-xl, hf, modules/);
  });

  it('sample | score: every sampled architecture is scored', () => {
    for (const space of ['nas-bench-bert', 'lts-gpt2', 'lts-txl', 'hf-decoder']) {
      const sampled = zerolm(['sample', space, '--count', '300', '--seed', '9']);
      expect(sampled.status).toBe(0);
      expect(sampled.lines).toHaveLength(300);
      const scored = zerolm(['score', '--mode', 'analytic'], sampled.stdout);
      expect(scored.status).toBe(0);
      expect(scored.records.map((r) => r.id)).toEqual(sampled.records.map((r) => r.id));
    }
  });

  it('sample | score writes exactly what the library gives, as JSON.stringify writes it', async () => {
    const sampled = zerolm(['sample', 'nas-bench-bert', '--count', '3000', '--seed', '4']);
    expect(sampled.stdout).toBe(sampleLines('nas-bench-bert', 3000, 4));
    // The sampler's lines, and the same lines with a few of another form among them (read by JSON.parse).
    const mixed = sampled.lines.map((line, i) => (i % 97 === 5 ? JSON.stringify(JSON.parse(line), null, 1).replace(/\n/g, ' ') : line));
    for (const input of [sampled.lines, mixed]) {
      for (const mode of ['analytic', 'exact'] as const) {
        const scored = zerolm(['score', '--mode', mode], `${input.join('\n')}\n`);
        expect(scored.status).toBe(0);
        const records = input.map((line, index) => ({ source: '<stdin>', line: index + 1, index, value: JSON.parse(line) }));
        const expected: string[] = [];
        for await (const record of scoreMany(records, { mode })) expected.push(`${JSON.stringify(record)}\n`);
        expect(scored.stdout).toBe(expected.join(''));
      }
    }
  });
});

describe('zerolm sample | zerolm score through a shell pipe', () => {
  const run = (args: string): string => `${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} ${args}`;

  it('scores every line as from a file', () => {
    // A real pipe (spawnSync's own stdio is a socket pair), 30,000 lines: far more than a 64 KiB pipe holds, so both
    // ends block and wake many times.
    const file = join(work, 'piped-input.jsonl');
    writeFileSync(file, sampleLines('nas-bench-bert', 30000, 12));
    const piped = spawnSync('bash', ['-c', `set -o pipefail; ${run('sample nas-bench-bert --count 30000 --seed 12')} | ${run('score --mode analytic')}`], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(piped.stderr).toBe('');
    expect(piped.status).toBe(0);
    const fromFile = zerolm(['score', '--mode', 'analytic', '-'], readFileSync(file, 'utf8'));
    expect(fromFile.status).toBe(0);
    expect(piped.stdout.split('\n')).toHaveLength(30001);
    expect(piped.stdout).toBe(fromFile.stdout);
  });

  it('works without the addon too (analytic mode needs none): the same lines', () => {
    const pipeline = `set -o pipefail; ${run('sample nas-bench-bert --count 3000 --seed 5')} | ${run('score --mode analytic')}`;
    const withAddon = spawnSync('bash', ['-c', pipeline], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
    const without = spawnSync('bash', ['-c', pipeline], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, ZEROLM_NATIVE_PATH: join(work, 'no-such-addon.node') } });
    expect(without.stderr).toBe('');
    expect(without.status).toBe(0);
    expect(without.stdout.split('\n')).toHaveLength(3001);
    expect(without.stdout).toBe(withAddon.stdout);
  });
});

describe('zerolm score --workers', () => {
  it('JSONL scored on worker threads: the same stdout, stderr, exit status and cache file as on one thread', () => {
    // 20,000 lines (several MB: most units go to the workers), with blank, broken and invalid lines among them.
    const lines = sampleLines('nas-bench-bert', 20000, 6).split('\n').filter(Boolean);
    const odd = ['', '{"id":"broken"', '{"id":"neg","hidden_size":-4,"nas_config":{"encoder_layers":[]}}', '  ', '7'];
    const mixed = lines.flatMap((line, i) => (i % 1999 === 3 ? [odd[(i / 1999) % odd.length | 0], line] : [line]));
    const file = join(work, 'mixed.jsonl');
    writeFileSync(file, mixed.join('\n')); // no newline after the last line
    const outcomes = [0, 2].map((workers) => {
      const cache = join(work, `cache-${workers}.json`);
      const fromFile = zerolm(['score', file, '--workers', String(workers), '--mode', 'exact', '--measure', 'mean-sq-sv', '--cache', cache]);
      const fromStdin = zerolm(['score', '--workers', String(workers), '--mode', 'analytic'], readFileSync(file, 'utf8'));
      const entries = JSON.parse(readFileSync(cache, 'utf8')).entries as Array<[string, number]>;
      return { fromFile, fromStdin, cache: new Map(entries) };
    });
    const [one, two] = outcomes;
    expect(one.fromFile.status).toBe(1);
    expect(one.fromFile.lines).toHaveLength(mixed.filter((line) => line.trim() !== '').length);
    expect(one.fromFile.stderr).toMatch(/mixed\.jsonl:\d+: E_PARSE/);
    for (const key of ['fromFile', 'fromStdin'] as const) {
      expect(two[key].stdout).toBe(one[key].stdout);
      expect(two[key].stderr).toBe(one[key].stderr);
      expect(two[key].status).toBe(one[key].status);
    }
    expect(two.cache).toEqual(one.cache);
    expect(one.cache.size).toBeGreaterThan(5);
  });
});

describe('zerolm calibrate, eval', () => {
  it('calibrate writes alpha with its provenance and score --calibration uses it', () => {
    const file = join(work, 'calibration.json');
    const result = zerolm(['calibrate', 'nas-bench-bert', '--out', file, '--sample-size', '40', '--measure', 'log-det']);
    expect(result.status).toBe(0);
    const calibration = JSON.parse(readFileSync(file, 'utf8'));
    expect(calibration).toMatchObject({ format: 'zerolm-calibration', strategy: 'sampling', sampleSize: 40, measure: 'log-det', build: 'as-trained', benchmark: 'nas-bench-bert' });
    expect(calibration.sampleIds).toHaveLength(40);
    const scored = zerolm(['score', '--benchmark', 'nas-bench-bert', '--calibration', file]);
    expect(scored.status).toBe(0);
    expect(scored.records.every((r) => r.alpha === calibration.alpha && r.measure === 'log-det')).toBe(true);
    writeFileSync(join(work, 'bad.json'), '{"format":"zerolm-calibration","version":1,"alpha":null}');
    const bad = zerolm(['score', '--calibration', join(work, 'bad.json')], '{}');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/alpha must be a finite number/);
  });

  it('eval --json prints the documented report', () => {
    const result = zerolm(['eval', 'nas-bench-bert', '--json', '--splits', '3', '--measure', 'log-det']);
    expect(result.status).toBe(0);
    expect(result.records).toHaveLength(1);
    const report = result.records[0];
    expect(report).toMatchObject({ benchmark: 'nas-bench-bert', n: 500, build: 'as-trained', measure: 'log-det', alphaStrategy: 'sampling', sampleSize: 50, splits: 3 });
    for (const statistic of ['spearman', 'kendall', 'kendall10pw']) {
      expect(report.heldOut[statistic].mean).toBeGreaterThan(-1);
      expect(report.heldOut[statistic].mean).toBeLessThan(1);
    }
    expect(Object.keys(report.baselines)).toEqual(expect.arrayContaining(['#params', '#params (non-embedding)', 'FLOPs', 'NSC']));
    expect(Object.keys(report.baselines).length).toBeGreaterThan(8); // the peer proxies too
  });

  it('lts-txl-wt103: score --benchmark scores the 200 Transformer-XL models, eval compares NSC and decoder_params', () => {
    const scored = zerolm(['score', '--benchmark', 'lts-txl-wt103', '--mode', 'analytic']);
    expect(scored.status).toBe(0);
    expect(scored.records).toHaveLength(200);
    expect(new Set(scored.records.map((r) => r.family))).toEqual(new Set(['transformer-xl']));
    expect(scored.records[0]).toMatchObject({ id: 'config_0_j0', params: 41443618, nonEmbeddingParams: 906375 });
    const result = zerolm(['eval', 'lts-txl-wt103', '--json', '--splits', '2', '--mode', 'analytic']);
    expect(result.status).toBe(0);
    const report = result.records[0];
    expect(report).toMatchObject({ benchmark: 'lts-txl-wt103', n: 200, build: 'default' });
    expect(Object.keys(report.baselines).sort()).toEqual(['#params', '#params (non-embedding)', 'FLOPs', 'NSC', 'decoder_params']);
    expect(report.baselines.NSC.kendall.mean).toBeGreaterThan(0.8);
  });

  it('eval --plot writes an SVG and a PNG', () => {
    const svg = join(work, 'plot.svg');
    const png = join(work, 'plot.png');
    expect(zerolm(['eval', 'lts-gpt2-wt103', '--splits', '2', '--no-baselines', '--plot', svg]).status).toBe(0);
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg[^>]*>/);
    expect(zerolm(['eval', 'lts-gpt2-wt103', '--splits', '2', '--no-baselines', '--plot', png]).status).toBe(0);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
  });
});

describe('zerolm score --calibration outside its space', () => {
  it('marks every record, warns once, and --strict-calibration stops with exit 2', () => {
    const calibration = join(work, 'bert-calibration.json');
    expect(zerolm(['calibrate', 'nas-bench-bert', '--mode', 'analytic', '--out', calibration]).status).toBe(0);
    const input = join(work, 'gpt2.jsonl');
    writeFileSync(input, sampleLines('lts-gpt2', 3, 1));
    const loose = zerolm(['score', '--calibration', calibration, input]);
    expect(loose.status).toBe(0);
    expect(loose.records).toHaveLength(3);
    for (const record of loose.records) {
      expect(record.family).toBe('gpt2-flex');
      expect(record.rule).toBe('weighted-sum');
      expect(record.calibration).toEqual({ file: calibration, matches: false, why: 'family gpt2-flex, calibrated on nas-bench-bert' });
    }
    expect(loose.stderr.match(/warning: .*outside the space/g)).toHaveLength(1);
    const strict = zerolm(['score', '--calibration', calibration, '--strict-calibration', input]);
    expect(strict.status).toBe(2);
    expect(strict.stderr).toMatch(/outside the space .*\(--strict-calibration\)/);
    const inside = zerolm(['score', '--calibration', calibration, '--strict-calibration'], sampleLines('nas-bench-bert', 3, 2));
    expect(inside.status).toBe(0);
    expect(inside.records.every((r: { calibration: { matches: boolean } }) => r.calibration.matches)).toBe(true);
  });

  it('calibrate --labels needs a direction and writes where it was fitted', () => {
    const labels = join(work, 'labels.jsonl');
    writeFileSync(labels, [...sampleSpace('lts-gpt2', { count: 12, seed: 4 })].map((architecture, i) => JSON.stringify({ architecture, label: 30 + i })).join('\n'));
    const out = join(work, 'own.json');
    const undirected = zerolm(['calibrate', '--labels', labels, '--mode', 'analytic', '--out', out]);
    expect(undirected.status).toBe(2);
    expect(undirected.stderr).toMatch(/--higher-is-better or --lower-is-better/);
    const fitted = zerolm(['calibrate', '--labels', labels, '--lower-is-better', '--mode', 'analytic', '--out', out]);
    expect(fitted.status).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ benchmark: null, labels, family: 'gpt2-flex', sampleSize: 12 });
  });
});
