import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isDeepStrictEqual } from 'util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  architectureKey,
  Benchmark,
  compareLtsIds,
  defaultBenchmarkDir,
  duplicateGroups,
  listBenchmarks,
  loadBenchmark,
  loadLtsParamsSummary,
} from '../../../src/eval/benchmarks';
import { zerolmErrorOf as thrown } from '../../helpers/zerolm-error';

const dataDir = path.resolve(__dirname, '../../../data/benchmarks');

const rawSummaries = new Map<string, Record<string, { valid_ppl: number }>>();
/** A model's valid_ppl as ppl_summary.yaml states it, parsed here directly (not through the loader). */
function rawValidPpl(benchmark: string, id: string): number {
  if (!rawSummaries.has(benchmark)) rawSummaries.set(benchmark, parseYaml(fs.readFileSync(path.join(dataDir, benchmark, 'ppl_summary.yaml'), 'utf8')));
  const value = rawSummaries.get(benchmark)![id]?.valid_ppl;
  if (typeof value !== 'number') throw new Error(`${benchmark}/ppl_summary.yaml has no valid_ppl for ${id}`);
  return value;
}


describe('embedded data', () => {
  it('is found relative to the package', () => {
    expect(defaultBenchmarkDir()).toBe(dataDir);
  });

  it('keeps licence and attribution files beside the data', () => {
    const required = [
      'README.md',
      'nas-bench-bert/LICENSE',
      'nas-bench-bert/ATTRIBUTION.md',
      'lts-gpt2-wt103/LICENSE',
      'lts-gpt2-wt103/ATTRIBUTION.md',
      'lts-txl-wt103/LICENSE',
      'lts-txl-wt103/ATTRIBUTION.md',
      'peer-proxy-scores/LICENSE-serianni',
      'peer-proxy-scores/LICENSE-lpzero',
      'peer-proxy-scores/ATTRIBUTION.md',
    ];
    for (const file of required) expect(fs.statSync(path.join(dataDir, file)).size).toBeGreaterThan(100);
    expect(fs.readFileSync(path.join(dataDir, 'nas-bench-bert/LICENSE'), 'utf8')).toContain('Attribution 4.0 International');
    expect(fs.readFileSync(path.join(dataDir, 'lts-gpt2-wt103/LICENSE'), 'utf8')).toContain('MIT License');
    expect(fs.readFileSync(path.join(dataDir, 'nas-bench-bert/ATTRIBUTION.md'), 'utf8')).toContain('2d76e01b9586cad7340e8268dadba3056efd070b');
    expect(fs.readFileSync(path.join(dataDir, 'lts-gpt2-wt103/ATTRIBUTION.md'), 'utf8')).toContain('47770415327900684ed95c0bc9bf7cd0d0047fad');
    expect(fs.readFileSync(path.join(dataDir, 'lts-txl-wt103/LICENSE'), 'utf8')).toContain('MIT License');
    expect(fs.readFileSync(path.join(dataDir, 'lts-txl-wt103/ATTRIBUTION.md'), 'utf8')).toContain('random_TransXL_wt103');
    const peers = fs.readFileSync(path.join(dataDir, 'peer-proxy-scores/ATTRIBUTION.md'), 'utf8');
    expect(peers).toContain('876432761a2ff67a77194018ebc88bdc42869974');
    expect(peers).toContain('9faa34d2c63c6b276a0082442e7eb0aa70be2526');
  });
});

describe('loadBenchmark', () => {
  it('lists the benchmarks and rejects unknown names, naming the known ones', () => {
    expect(listBenchmarks()).toEqual(['nas-bench-bert', 'lts-gpt2-wt103', 'lts-txl-wt103']);
    const error = thrown(() => loadBenchmark('nas-bench-201'));
    expect(error.code).toBe('E_ARGUMENT');
    expect(error.message).toContain('nas-bench-201');
    expect(error.message).toContain('nas-bench-bert, lts-gpt2-wt103, lts-txl-wt103');
  });

  it('reports a missing data folder as E_IO naming the file', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'zerolm-bench-'));
    try {
      const error = thrown(() => loadBenchmark('nas-bench-bert', empty));
      expect(error.code).toBe('E_IO');
      expect(error.location?.file).toBe(path.join(empty, 'nas-bench-bert', 'BERT_benchmark.json'));
    } finally {
      fs.rmSync(empty, { recursive: true });
    }
  });

  it('reports a malformed label as E_FORMAT naming the entry', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zerolm-bench-'));
    try {
      fs.mkdirSync(path.join(dir, 'nas-bench-bert'));
      const entry = { id: 0, scores: { glue: 'high' }, hparams: {} };
      fs.writeFileSync(path.join(dir, 'nas-bench-bert', 'BERT_benchmark.json'), JSON.stringify([entry]));
      const error = thrown(() => loadBenchmark('nas-bench-bert', dir));
      expect(error.code).toBe('E_FORMAT');
      expect(error.message).toContain('[0].scores.glue');
      fs.writeFileSync(path.join(dir, 'nas-bench-bert', 'BERT_benchmark.json'), '[{');
      expect(thrown(() => loadBenchmark('nas-bench-bert', dir)).code).toBe('E_PARSE');
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });

  describe('nas-bench-bert', () => {
    let bench: Benchmark;
    beforeAll(() => {
      bench = loadBenchmark('nas-bench-bert');
    });

    it('has 500 entries with ids "0".."499" and GLUE labels', () => {
      expect(bench.entries).toHaveLength(500);
      expect(bench.entries.map((e) => e.id)).toEqual(Array.from({ length: 500 }, (_, i) => String(i)));
      expect(bench.labelName).toBe('glue');
      expect(bench.higherIsBetter).toBe(true);
      expect(bench.family).toBe('nas-bench-bert');
      expect(bench.licence).toBe('CC BY 4.0');
      expect(bench.citation).toContain('Serianni');
      // GLUE scores are percentages; the values are checked against the task scores (below) and the published CSV
      // (peers.test.ts).
      expect(bench.entries.filter((e) => !(e.label > 0 && e.label < 100))).toEqual([]);
    });

    it('labels are the mean of the 8 GLUE task scores', () => {
      const tasks = ['cola', 'mnli', 'mrpc', 'qnli', 'qqp', 'rte', 'sst', 'sts'];
      const wrong = bench.entries.filter((entry) => {
        const scores = (entry.architecture as { scores: Record<string, number> }).scores;
        const mean = tasks.reduce((sum, task) => sum + scores[task], 0) / tasks.length;
        return !(Math.abs(entry.label - mean) < 1e-9);
      });
      expect(wrong.map((e) => e.id)).toEqual([]);
    });

    it('keeps the raw entries: 2 or 4 layers from the search space', () => {
      const space = JSON.parse(fs.readFileSync(path.join(dataDir, 'nas-bench-bert/search_space.json'), 'utf8'));
      const outside: string[] = [];
      for (const entry of bench.entries) {
        const overrides = (entry.architecture as { hparams: { model_hparam_overrides: { hidden_size: number; nas_config: { encoder_layers: Array<Record<string, unknown>> } } } })
          .hparams.model_hparam_overrides;
        const layers = overrides.nas_config.encoder_layers;
        const ok =
          space.hidden_size.includes(overrides.hidden_size) &&
          space.num_encoder_layers.includes(layers.length) &&
          layers.every(
            (layer) =>
              space.encoder_layer.operation_type.includes(layer.operation_type) &&
              space.encoder_layer[layer.operation_type as string].includes(layer.operation_parameter) &&
              space.encoder_layer.num_operation_heads.includes(layer.num_operation_heads) &&
              space.encoder_layer.feed_forward_dimension.includes(layer.feed_forward_dimension) &&
              space.encoder_layer.num_feed_forward.includes(layer.num_feed_forward),
          );
        if (!ok) outside.push(entry.id);
      }
      expect(outside).toEqual([]);
    });

    it('has nine architectures twice, with GLUE 0.16 to 2.02 apart', () => {
      const groups = duplicateGroups(bench);
      expect(groups).toHaveLength(9);
      expect(groups.every((g) => g.length === 2)).toBe(true);
      expect(new Set(bench.entries.map((e) => architectureKey('nas-bench-bert', e.architecture))).size).toBe(491);
      // The label-noise floor: repeated training of one architecture moved GLUE by 0.16 (ids 174/405) to
      // 2.02 points (ids 60/222).
      const label = new Map(bench.entries.map((e) => [e.id, e.label]));
      const gaps = groups.map(([a, b]) => Math.abs(label.get(a)! - label.get(b)!));
      expect(Math.min(...gaps)).toBeCloseTo(0.159, 3);
      expect(Math.max(...gaps)).toBeCloseTo(2.019, 3);
      expect(groups).toContainEqual(['60', '222']);
    });

    it('architectureKey ignores ids, scores and key order', () => {
      const [first] = bench.entries;
      const arch = first.architecture as { hparams: { model_hparam_overrides: { hidden_size: number; nas_config: unknown } } };
      const { hidden_size, nas_config } = arch.hparams.model_hparam_overrides;
      const reordered = { id: 'x', scores: {}, hparams: { model_hparam_overrides: { nas_config, hidden_size } } };
      expect(architectureKey('nas-bench-bert', reordered)).toBe(architectureKey('nas-bench-bert', arch));
      expect(thrown(() => architectureKey('nas-bench-bert', { id: 1 })).code).toBe('E_FORMAT');
    });
  });

  describe('lts-gpt2-wt103', () => {
    let bench: Benchmark;
    beforeAll(() => {
      bench = loadBenchmark('lts-gpt2-wt103');
    });

    it('has 200 entries in numeric id order with valid_ppl labels', () => {
      expect(bench.entries).toHaveLength(200);
      const expectedIds: string[] = [];
      for (let i = 0; i < 20; i++) for (let k = 0; k < 10; k++) expectedIds.push(`config_${i}_j${k}`);
      expect(bench.entries.map((e) => e.id)).toEqual(expectedIds);
      expect(bench.labelName).toBe('valid_ppl');
      expect(bench.higherIsBetter).toBe(false);
      expect(bench.family).toBe('gpt2-flex');
      expect(bench.licence).toBe('MIT');
      // Every label is its model's valid_ppl in ppl_summary.yaml, read here by another route (the yaml package).
      expect(bench.entries.map((e) => e.label)).toEqual(bench.entries.map((e) => rawValidPpl('lts-gpt2-wt103', e.id)));
    });

    it('architectures are the parsed model_config.yaml files and survive a YAML round trip', () => {
      const problems: string[] = [];
      // Every fifth entry (40 files, one from each config_<i> group pair of j's) keeps the test fast; the
      // loader itself reads all 200 and 'all 200 architectures are distinct' covers the rest.
      for (const entry of bench.entries.filter((_, index) => index % 5 === 0)) {
        const [, i, k] = /^config_(\d+)_j(\d+)$/.exec(entry.id)!;
        const file = path.join(dataDir, 'lts-gpt2-wt103', `config_${i}`, `j${k}`, 'model_config.yaml');
        const parsed = parseYaml(fs.readFileSync(file, 'utf8'));
        if (!isDeepStrictEqual(entry.architecture, parsed)) problems.push(`${entry.id}: differs from ${file}`);
        if (!isDeepStrictEqual(parseYaml(stringifyYaml(entry.architecture)), entry.architecture)) problems.push(`${entry.id}: round trip`);
        const config = entry.architecture as { n_layer: number; n_head: number[]; d_inner: number[]; n_token: number };
        if (config.n_head.length !== config.n_layer || config.d_inner.length !== config.n_layer || config.n_token !== 50264) {
          problems.push(`${entry.id}: layer lists or n_token`);
        }
      }
      expect(problems).toEqual([]);
      const first = bench.entries[0].architecture as Record<string, unknown>;
      expect(first).toMatchObject({ n_layer: expect.any(Number), d_model: expect.any(Number), weight_init_std: 0.02, tgt_len: 192 });
    });

    it('every call returns its own copy', () => {
      const again = loadBenchmark('lts-gpt2-wt103');
      expect(again.entries).toEqual(bench.entries);
      (again.entries[0].architecture as { d_model: number }).d_model = -1;
      again.entries[1].label = -1;
      const third = loadBenchmark('lts-gpt2-wt103', dataDir);
      expect(third.entries[0]).toEqual(bench.entries[0]);
      expect(third.entries[1].label).toBe(bench.entries[1].label);
    });

    it('all 200 architectures are distinct', () => {
      expect(duplicateGroups(bench)).toEqual([]);
    });

    it('params_summary covers every id', () => {
      const params = loadLtsParamsSummary();
      expect([...params.keys()]).toEqual(bench.entries.map((e) => e.id));
      expect(params.get('config_0_j0')).toEqual({ AdaEmb: 6631088, Attn: 330240, FFN: 1457316, nonembedding: 1790372, total: 8505006 });
      for (const counts of params.values()) expect(counts.nonembedding).toBeGreaterThan(counts.Attn + counts.FFN - 1);
    });
  });

  describe('lts-txl-wt103', () => {
    let bench: Benchmark;
    beforeAll(() => {
      bench = loadBenchmark('lts-txl-wt103');
    });

    it('has 200 Transformer-XL entries in numeric id order with valid_ppl labels', () => {
      expect(bench.entries).toHaveLength(200);
      expect(bench.entries[0].id).toBe('config_0_j0');
      expect(bench.entries[199].id).toBe('config_19_j9');
      expect(bench.labelName).toBe('valid_ppl');
      expect(bench.higherIsBetter).toBe(false);
      expect(bench.family).toBe('transformer-xl');
      expect(bench.citation).toContain('random_TransXL_wt103');
      expect(bench.entries.map((e) => e.label)).toEqual(bench.entries.map((e) => rawValidPpl('lts-txl-wt103', e.id)));
      for (const entry of bench.entries) {
        expect(entry.architecture).toMatchObject({ model_type: 'mem_transformer', attn_type: 0, n_token: 267736, mem_len: 192 });
      }
      expect(duplicateGroups(bench)).toEqual([]);
    });

    it('params_summary covers every id', () => {
      const params = loadLtsParamsSummary(undefined, 'lts-txl-wt103');
      expect([...params.keys()]).toEqual(bench.entries.map((e) => e.id));
      expect(params.get('config_0_j0')).toEqual({ AdaEmb: 40235200, Attn: 103040, FFN: 802055, nonembedding: 906375, total: 41443618 });
      expect(thrown(() => loadLtsParamsSummary(undefined, 'nas-bench-bert' as never)).code).toBe('E_ARGUMENT');
    });
  });

  it('compareLtsIds orders by number, not by string', () => {
    expect(['config_10_j0', 'config_2_j1', 'config_2_j0', 'config_2_j10'].sort(compareLtsIds)).toEqual([
      'config_2_j0',
      'config_2_j1',
      'config_2_j10',
      'config_10_j0',
    ]);
  });
});
