import { sampleSpace, sampleSpaceLines, sampleLineEncoder, FLEXIBERT_SPACE } from '../../../src/search/sample';
import { buildPlan } from '../../../src/arch';
import { ZeroLMError } from '../../../src/errors';

describe('search-space samplers', () => {
  it('draw valid architectures that the builders accept, for every space', () => {
    for (const space of ['nas-bench-bert', 'lts-gpt2', 'lts-txl', 'hf-decoder']) {
      const samples = [...sampleSpace(space, { count: 200, seed: 1 })];
      expect(samples).toHaveLength(200);
      for (const sample of samples) {
        const plan = buildPlan(sample);
        expect(plan.layers.length).toBeGreaterThanOrEqual(2);
        expect(plan.params.total).toBeGreaterThan(0);
      }
    }
  });

  it('cover the FlexiBERT space: every operation, head count and width appears', () => {
    const seen = new Set<string>();
    for (const sample of sampleSpace('nas-bench-bert', { count: 2000, seed: 3 }) as Iterable<{ hidden_size: number; nas_config: { encoder_layers: Array<Record<string, unknown>> } }>) {
      seen.add(`h${sample.hidden_size}`);
      seen.add(`L${sample.nas_config.encoder_layers.length}`);
      for (const layer of sample.nas_config.encoder_layers) {
        seen.add(`${layer.operation_type}:${layer.operation_parameter}`);
        seen.add(`heads${layer.num_operation_heads}`);
        seen.add(`ffd${layer.feed_forward_dimension}`);
        seen.add(`nff${layer.num_feed_forward}`);
      }
    }
    const expected = [
      ...FLEXIBERT_SPACE.hiddenSize.map((h) => `h${h}`),
      ...FLEXIBERT_SPACE.layerCount.map((l) => `L${l}`),
      ...Object.entries(FLEXIBERT_SPACE.operations).flatMap(([op, params]) => params.map((p) => `${op}:${p}`)),
      ...FLEXIBERT_SPACE.heads.map((h) => `heads${h}`),
    ];
    for (const key of expected) expect(seen).toContain(key);
  });

  it('lts-txl draws Transformer-XL configs within the ranges of the benchmark', () => {
    const seen = { layers: new Set<number>(), dModel: new Set<number>() };
    for (const sample of sampleSpace('lts-txl', { count: 500, seed: 4 }) as Iterable<Record<string, unknown>>) {
      const plan = buildPlan(sample);
      expect(plan.family).toBe('transformer-xl');
      seen.layers.add(plan.layers.length);
      seen.dModel.add(plan.hiddenSize);
      for (const inner of sample.d_inner as number[]) expect(inner >= 512 && inner <= 2048).toBe(true);
    }
    expect([...seen.layers].sort()).toEqual([5, 6, 7, 8]);
    expect([...seen.dModel].sort((a, b) => a - b)).toEqual([64, 128, 256, 512]);
  });

  it('is reproducible from its seed and differs across seeds', () => {
    const a = JSON.stringify([...sampleSpace('lts-gpt2', { count: 20, seed: 5 })]);
    expect(JSON.stringify([...sampleSpace('lts-gpt2', { count: 20, seed: 5 })])).toBe(a);
    expect(JSON.stringify([...sampleSpace('lts-gpt2', { count: 20, seed: 6 })])).not.toBe(a);
  });

  it('honours decoder ranges: heads divide hidden, kv heads divide heads', () => {
    const ranges = { layers: [2, 3] as [number, number], hidden: [384, 768, 128] as [number, number, number], heads: [6, 12], kvHeads: [2, 3] };
    for (const sample of sampleSpace('hf-decoder', { count: 300, seed: 2, decoder: ranges }) as Iterable<Record<string, number>>) {
      expect(sample.num_hidden_layers).toBeGreaterThanOrEqual(2);
      expect(sample.num_hidden_layers).toBeLessThanOrEqual(3);
      expect(sample.hidden_size % sample.num_attention_heads).toBe(0);
      expect(sample.num_attention_heads % sample.num_key_value_heads).toBe(0);
    }
  });

  it('write as lines exactly JSON.stringify of the architectures they draw, for every space and seed', () => {
    for (const space of ['nas-bench-bert', 'lts-gpt2', 'lts-txl', 'hf-decoder']) {
      for (const seed of [0, 1, 3, 0xffffffff]) {
        const lines = [...sampleSpaceLines(space, { count: 500, seed })];
        expect(lines).toEqual([...sampleSpace(space, { count: 500, seed })].map((architecture) => JSON.stringify(architecture)));
      }
    }
    expect([...sampleSpaceLines('nas-bench-bert', { count: 0 })]).toEqual([]);
  });

  it('write as bytes the very lines they write as strings, even into buffers that fill up mid-line', () => {
    for (const space of ['nas-bench-bert', 'lts-gpt2', 'lts-txl', 'hf-decoder']) {
      for (const seed of [0, 7]) {
        const count = 1500;
        const expected = Buffer.from([...sampleSpaceLines(space, { count, seed })].map((line) => `${line}\n`).join(''));
        // Into a buffer of 1000 bytes, as a writer would: a line that does not fit is written again into a fresh one.
        const chunks: Buffer[] = [];
        let target = Buffer.alloc(1000);
        let used = 0;
        const lines = sampleLineEncoder(space, { count, seed });
        let drawn = 0;
        while (lines.next()) {
          drawn++;
          let end = lines.encodeInto(undefined, target, used);
          if (end < 0 || end >= target.length) {
            chunks.push(target.subarray(0, used));
            target = Buffer.alloc(Math.max(1000, 4 * expected.length / count));
            used = 0;
            end = lines.encodeInto(undefined, target, 0);
          }
          target[end] = 10;
          used = end + 1;
        }
        chunks.push(target.subarray(0, used));
        expect(drawn).toBe(count);
        expect(Buffer.concat(chunks).equals(expected)).toBe(true);
      }
    }
    expect(sampleLineEncoder('nas-bench-bert', { count: 0 }).next()).toBe(false);
  });

  it('refuses unknown spaces, bad counts and impossible ranges', () => {
    expect(() => [...sampleSpace('moon', { count: 1 })]).toThrow(/unknown search space "moon"/);
    expect(() => [...sampleSpace('lts-gpt2', { count: -1 })]).toThrow(ZeroLMError);
    expect(() => [...sampleSpace('hf-decoder', { count: 1, decoder: { hidden: [100, 100, 1], heads: [3] } })]).toThrow(/admit no architecture/);
    expect(() => [...sampleSpaceLines('moon', { count: 1 })]).toThrow(/unknown search space "moon"/);
    expect(() => [...sampleSpaceLines('nas-bench-bert', { count: 1.5 })]).toThrow(ZeroLMError);
    expect(() => sampleLineEncoder('moon', { count: 1 })).toThrow(/unknown search space "moon"/);
    expect(() => sampleLineEncoder('nas-bench-bert', { count: -1 })).toThrow(ZeroLMError);
  });
});
