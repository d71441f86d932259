/** Score records of Hugging Face configs: activeParams for mixture-of-experts models, warnings, strictConfig. */
import { buildPlan } from '../../../src/arch';
import { scoreMany, type ScoreRecord } from '../../../src/proxy/many';
import { score } from '../../../src/proxy/score';
import { ScoreSerializer } from '../../../src/proxy/serialize';

// Mixtral's structure at a size the engine scores in milliseconds.
const smallMixtral = {
  model_type: 'mixtral',
  vocab_size: 100,
  hidden_size: 64,
  intermediate_size: 96,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  num_local_experts: 8,
  num_experts_per_tok: 2,
};
const smallLlama = { model_type: 'llama', vocab_size: 100, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 2, num_attention_heads: 4 };
const documentedKeys = ['score', 'attention', 'ffn', 'params', 'nonEmbeddingParams', 'measure', 'rule', 'alpha', 'family', 'build', 'mode', 'seed', 'seedPolicy', 'perHead', 'layers'];

describe('hf score records', () => {
  test('a mixture-of-experts record ends with activeParams; a dense one keeps exactly the documented fields', async () => {
    const moe = await score(smallMixtral);
    expect(Object.keys(moe)).toEqual([...documentedKeys, 'activeParams']);
    expect(moe.activeParams).toBe(buildPlan(smallMixtral).params.active);
    expect(moe.params - (moe.activeParams as number)).toBe(2 * 6 * 3 * 64 * 96);
    expect(Object.keys(await score(smallLlama))).toEqual(documentedKeys);
  });

  test('FFN capacity is linear in the experts scored (shape seed policy: every expert the same draw)', async () => {
    const ffn = async (architecture: object, build?: 'default' | 'active-experts'): Promise<number> => (await score(architecture, { build })).ffn;
    const one = await ffn({ ...smallMixtral, num_experts_per_tok: 1 }, 'active-experts');
    const two = await ffn(smallMixtral, 'active-experts');
    const all = await ffn(smallMixtral);
    expect(all).toBeCloseTo(one + 7 * (two - one), 10);
    expect((await score(smallMixtral, { build: 'active-experts' })).attention).toBe((await score(smallMixtral)).attention);
  });

  test('warnings travel to the record; strictConfig makes the same input an error record; bytes equal JSON.stringify', async () => {
    const relabelled = { ...smallMixtral, model_type: 'mistral' };
    const records: ScoreRecord[] = [];
    for await (const record of scoreMany([relabelled, smallMixtral, smallLlama])) records.push(record);
    const [warned, moe, dense] = records as unknown as Array<Record<string, unknown>>;
    expect(warned.warnings).toEqual([expect.stringContaining('num_local_experts')]);
    expect(warned.activeParams).toBeUndefined();
    expect(moe.warnings).toBeUndefined();
    const serializer = new ScoreSerializer();
    for (const record of [warned, moe, dense, { ...warned, source: 'a.json', line: 3 }]) {
      const target = Buffer.alloc(1 << 16);
      const end = serializer.encodeInto(record as unknown as ScoreRecord, target, 0);
      expect(target.toString('utf8', 0, end)).toBe(JSON.stringify(record));
    }
    const strict: ScoreRecord[] = [];
    for await (const record of scoreMany([relabelled, smallMixtral], { strictConfig: true })) strict.push(record);
    expect(strict[0]).toMatchObject({ index: 0, error: { code: 'E_UNSUPPORTED' } });
    expect((strict[1] as { score?: number }).score).toBe(moe.score);
  });
});
