import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { BuildMemo, buildPlan as buildWithoutMemo, MAX_MEMO_ENTRIES, type BuildName, type InitScheme, type ModelPlan } from '../../../src/arch';
import { benchmarkFile, expectError } from './helpers';

const entries = JSON.parse(readFileSync(benchmarkFile('nas-bench-bert/BERT_benchmark.json'), 'utf8')) as unknown[];
const summary = parse(readFileSync(benchmarkFile('lts-gpt2-wt103/params_summary.yaml'), 'utf8')) as Record<string, unknown>;
const ltsConfigs = Object.keys(summary).map((name) => {
  const [, config, job] = /^config_(\d+)_j(\d+)$/.exec(name) as RegExpExecArray;
  return parse(readFileSync(benchmarkFile(`lts-gpt2-wt103/config_${config}/j${job}/model_config.yaml`), 'utf8')) as Record<string, unknown>;
});

type Layer = { operation_type: string; operation_parameter: string | number; num_operation_heads: number; feed_forward_dimension: number; num_feed_forward: number };
const layer = (operation_type: string, operation_parameter: string | number, heads = 4, width = 512, depth = 1): Layer => ({
  operation_type,
  operation_parameter,
  num_operation_heads: heads,
  feed_forward_dimension: width,
  num_feed_forward: depth,
});
const bert = (layers: Layer[], hidden = 256): unknown => ({ hidden_size: hidden, nas_config: { encoder_layers: layers } });
const gpt2 = (heads: number[], inner: number[], extra: Record<string, unknown> = {}): unknown => ({
  n_layer: heads.length,
  d_model: 128,
  n_head: heads,
  d_inner: inner,
  n_token: 1000,
  cutoffs: [],
  ...extra,
});

/** The memo the tests share, renewed before each: plans built with it share layers. */
let memo = new BuildMemo();
beforeEach(() => {
  memo = new BuildMemo();
});
function buildPlan(input: unknown, options: Parameters<typeof buildWithoutMemo>[1] = {}): ModelPlan {
  return buildWithoutMemo(input, { ...options, memo });
}

/** Builds an input without a memo: the reference every memoised build must equal. */
function fresh(input: unknown, options?: Parameters<typeof buildWithoutMemo>[1]): ModelPlan {
  return buildWithoutMemo(input, options);
}

describe('nas-bench-bert layers are shared across plans', () => {
  const sdp = layer('SA', 'SDP');
  const wma = layer('SA', 'WMA', 2, 1024, 3);
  const dsc = layer('DSC', 9, 4, 512, 2);

  test('the same layer at the same index in two different architectures is the same frozen object', () => {
    const a = buildPlan(bert([sdp, wma, dsc]), { build: 'as-specified' });
    const b = buildPlan(bert([sdp, dsc, dsc, wma]), { build: 'as-specified' });
    expect(b.layers[0]).toBe(a.layers[0]);
    expect(b.layers[2]).toBe(a.layers[2]);
    // Same fields at another index: another object (names carry the index), equal apart from the names.
    expect(b.layers[1]).not.toBe(a.layers[2]);
    expect(b.layers[1].attention[0].name).toBe('layers.1.attention.query');
    expect(b.layers[1].params).toEqual(a.layers[2].params);
    for (const part of [a.layers[0], a.layers[0].attention, a.layers[0].attention[0], a.layers[0].attention[0].init, a.layers[0].ffn, a.layers[0].params, a.layers[0].description, a.extras, a.extras[0]]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
    expect(() => {
      (a.layers[0].attention[0] as { rows: number }).rows = 1;
    }).toThrow(TypeError);
    expect(a.layers[0].attention[0].rows).toBe(256);
  });

  test('a different build, hidden size or init gives a different object', () => {
    const input = bert([sdp, wma]);
    const trained = buildPlan(input);
    expect(buildPlan(input, { build: 'as-specified' }).layers[0]).not.toBe(trained.layers[0]);
    expect(buildPlan(bert([sdp, wma], 128)).layers[0]).not.toBe(trained.layers[0]);
    const xavier = buildPlan(input, { init: { scheme: 'xavier-normal' } });
    expect(xavier.layers[0]).not.toBe(trained.layers[0]);
    expect(xavier.layers[0].attention[0].init).toEqual({ scheme: 'xavier-normal' });
    // An equal init given again (a new object) reuses the layers built for it.
    expect(buildPlan(input, { init: { scheme: 'xavier-normal' } }).layers[0]).toBe(xavier.layers[0]);
    expect(buildPlan(input).layers[1]).toBe(trained.layers[1]);
  });

  test('fields a build ignores do not split layers: as-trained with one FFN layer, lpzero widths and hidden size', () => {
    const oneDeep = buildPlan(bert([layer('SA', 'SDP', 4, 512, 1)]));
    expect(buildPlan(bert([layer('SA', 'SDP', 4, 2048, 1)])).layers[0]).toBe(oneDeep.layers[0]);
    expect(buildPlan(bert([layer('SA', 'SDP', 4, 2048, 2)])).layers[0]).not.toBe(buildPlan(bert([layer('SA', 'SDP', 4, 512, 2)])).layers[0]);
    const port = buildPlan(bert([wma], 128), { build: 'lpzero' });
    expect(buildPlan(bert([{ ...wma, feed_forward_dimension: 4096 }], 512), { build: 'lpzero' }).layers[0]).toBe(port.layers[0]);
    // ... but the operation does, in every build (as-trained reports what the entry specified).
    expect(buildPlan(bert([layer('SA', 'WMA', 4, 512, 1)])).layers[0]).not.toBe(oneDeep.layers[0]);
  });
});

describe('gpt2-flex attention blocks are shared', () => {
  test('the attention block of (index, heads) is shared from the first plan on, whatever d_inner; whole layers are each plan\'s own', () => {
    const first = buildPlan(gpt2([2, 4, 8], [300, 400, 500]));
    const second = buildPlan(gpt2([2, 4, 8], [300, 999, 500]));
    expect(second.layers[0]).toEqual(first.layers[0]);
    expect(second.layers[0]).not.toBe(first.layers[0]);
    expect(second.layers[1].attention).toBe(first.layers[1].attention);
    expect(Object.isFrozen(first.layers[1].attention[3])).toBe(true);
  });

  test('n_layer is part of the key: the residual init and the final LayerNorm depend on it', () => {
    const short = [buildPlan(gpt2([4, 4], [256, 256])), buildPlan(gpt2([4, 4], [256, 256]))][1];
    const long = [buildPlan(gpt2([4, 4, 4], [256, 256, 256])), buildPlan(gpt2([4, 4, 4], [256, 256, 256]))][1];
    expect(long.layers[0].attention).not.toBe(short.layers[0].attention);
    expect(short.layers[0].attention[3].init).toEqual({ scheme: 'normal', std: 0.02 / Math.sqrt(4) });
    expect(long.layers[0].attention[3].init).toEqual({ scheme: 'normal', std: 0.02 / Math.sqrt(6) });
    expect(short.layers[1].params.other - long.layers[1].params.other).toBe(2 * 128); // final LayerNorm
    const std = buildPlan(gpt2([4, 4], [256, 256], { weight_init_std: 0.05 }));
    expect(std.layers[0].attention[0].init).toEqual({ scheme: 'normal', std: 0.05 });
    expect(std.layers[0].attention).not.toBe(short.layers[0].attention);
  });
});

describe('the memo never changes a result', () => {
  const inits: Array<InitScheme | undefined> = [undefined, { scheme: 'xavier-uniform' }, { scheme: 'normal', std: 0.05 }];

  test('every nas-bench-bert entry in every build and init equals its build with an empty memo', () => {
    const memoised: string[] = [];
    const options: Array<{ build: BuildName; init?: InitScheme }> = [];
    for (const build of ['as-trained', 'as-specified', 'lpzero'] as const) for (const init of inits) options.push(init === undefined ? { build } : { build, init });
    // Two passes: the second one is served from the memo.
    for (let pass = 0; pass < 2; pass++) for (const o of options) for (const entry of entries.slice(0, 120)) memoised.push(JSON.stringify(buildPlan(entry, o)));
    const mismatches: number[] = [];
    let k = 0;
    for (let pass = 0; pass < 2; pass++) {
      for (const o of options) {
        for (const entry of entries.slice(0, 120)) {
          // JSON comparison: values and key order (the CLI prints plans).
          if (JSON.stringify(fresh(entry, o)) !== memoised[k]) mismatches.push(k);
          k++;
        }
      }
    }
    expect(k).toBe(2 * 9 * 120);
    expect(mismatches).toEqual([]);
  });

  test('every LTS benchmark config, twice, equals its build with an empty memo', () => {
    const memoised = [...ltsConfigs, ...ltsConfigs].map((c) => JSON.stringify(buildPlan(c)));
    const reference = [...ltsConfigs, ...ltsConfigs].map((c) => JSON.stringify(fresh(c)));
    expect(memoised.filter((plan, i) => plan !== reference[i])).toEqual([]);
    const replaced = buildPlan(ltsConfigs[0], { init: { scheme: 'normal', std: 0.05 } });
    expect(replaced).toEqual(fresh(ltsConfigs[0], { init: { scheme: 'normal', std: 0.05 } }));
  });

  test('errors are the same whether the layers are memoised or not, and name the first failing field', () => {
    const good = layer('SA', 'SDP', 4);
    const undivided = layer('SA', 'SDP', 3); // 3 heads do not divide 256: a build-time error
    buildPlan(bert([good, good]));
    // Layer 0 is memoised, layer 1 fails at build time.
    let e = expectError(() => buildPlan(bert([good, undivided])), 'E_FORMAT');
    expect(e.location?.field).toBe('nas_config.encoder_layers[1].num_operation_heads');
    // A parse error in a later layer wins over a build error in an earlier one, as parsing comes first.
    e = expectError(() => buildPlan(bert([undivided, { ...good, num_feed_forward: '2' } as unknown as Layer])), 'E_FORMAT');
    expect(e.location?.field).toBe('nas_config.encoder_layers[1].num_feed_forward');
    expect(e.message).toBe('nas_config.encoder_layers[1].num_feed_forward: must be a positive integer, got "2" (a string)');
    // A failed build leaves nothing wrong behind.
    expect(buildPlan(bert([good, good]))).toEqual(fresh(bert([good, good])));
  });
});

describe('the memo is bounded', () => {
  test(`it is dropped whole once it would pass its bound (${MAX_MEMO_ENTRIES} entries); plans stay equal, identity is renewed`, () => {
    const bound = 1000; // the same logic as the default bound, at a size a unit test can fill quickly
    memo = new BuildMemo(bound);
    {
      const probe = bert([layer('SA', 'SDP')]);
      const before = buildPlan(probe).layers[0];
      expect(buildPlan(probe).layers[0]).toBe(before);
      let largest = 0;
      let drops = 0;
      for (let p = 0; p < 100; p++) {
        // 24 layers of distinct FFN widths per plan, each memoised on first sight.
        const layers = Array.from({ length: 24 }, (_, i) => layer('SA', 'SDP', 4, 1 + p * 24 + i, 2));
        const size = memo.size;
        buildPlan(bert(layers), { build: 'as-specified' });
        if (memo.size < size) drops++;
        largest = Math.max(largest, memo.size);
      }
      expect(largest).toBeLessThanOrEqual(bound);
      expect(drops).toBe(2); // 100 plans x 24 layers (+ contexts) pass 1000 entries twice
      const after = buildPlan(probe).layers[0];
      expect(after).not.toBe(before);
      expect(after).toEqual(before);
      memo.clear();
      expect(memo.size).toBe(0);
      expect(buildPlan(probe).layers[0]).not.toBe(after);
    }
  });
});

describe('a memo belongs to its holder', () => {
  test('plans built with different memos, or with none, share no layer; equal plans all the same', () => {
    const input = bert([layer('SA', 'SDP'), layer('DSC', 9)]);
    const other = new BuildMemo();
    const a = buildPlan(input);
    const b = buildWithoutMemo(input, { memo: other });
    const c = buildWithoutMemo(input);
    const d = buildWithoutMemo(input);
    expect(b.layers[0]).not.toBe(a.layers[0]);
    expect(c.layers[0]).not.toBe(d.layers[0]);
    expect(buildWithoutMemo(input, { memo: other }).layers[0]).toBe(b.layers[0]);
    for (const plan of [b, c, d]) expect(plan).toEqual(a);
    const ltsA = buildPlan(ltsConfigs[0]);
    const ltsB = buildWithoutMemo(ltsConfigs[0], { memo: other });
    expect(ltsB.layers[0].attention).not.toBe(ltsA.layers[0].attention);
    expect(ltsB).toEqual(ltsA);
  });

  test('a memo option that is not a BuildMemo is refused, naming the field', () => {
    const e = expectError(() => buildWithoutMemo(bert([layer('SA', 'SDP')]), { memo: {} as BuildMemo }), 'E_ARGUMENT');
    expect(e.location?.field).toBe('memo');
  });
});
