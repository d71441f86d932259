/**
 * The sampler never writes a line the scorer refuses: decoder ranges that could give one are refused before the
 * first line, and every line of the ranges it accepts builds and scores.
 */
import { buildPlan, MAX_DIMENSION, MAX_LAYERS } from '../../../src/arch';
import { ZeroLMError } from '../../../src/errors';
import { score } from '../../../src/proxy/score';
import { seededRandom } from '../../../src/stats/random';
import { checkDecoderRanges, DEFAULT_DECODER_RANGES, sampleLineEncoder, sampleSpaceLines, type DecoderRanges } from '../../../src/search/sample';

function refusal(decoder: Partial<DecoderRanges>): ZeroLMError | undefined {
  try {
    sampleLineEncoder('hf-decoder', { count: 1, decoder });
  } catch (error) {
    expect(error).toBeInstanceOf(ZeroLMError);
    return error as ZeroLMError;
  }
  return undefined;
}

describe('hf-decoder sampler ranges', () => {
  it.each<[string, Partial<DecoderRanges>, RegExp]>([
    ['a vocabulary over the dimension limit', { vocab: 1e9 }, /vocab: must be an integer from 1 to 1048576, got 1000000000/],
    ['more layers than a model may have', { layers: [2, MAX_LAYERS + 1] }, /layers: must be an integer from 1 to 16384/],
    ['a hidden size over the dimension limit', { hidden: [512, 2 ** 21, 512] }, /hidden: must be an integer/],
    ['intermediate sizes over the limit', { hidden: [2 ** 19, 2 ** 20, 2 ** 19], heads: [8], kvHeads: [8], ffnRatio: [2, 4] }, /intermediate sizes up to/],
    ['too many parameters to count', { layers: [MAX_LAYERS, MAX_LAYERS], hidden: [2 ** 20, 2 ** 20, 1], heads: [8], kvHeads: [8], ffnRatio: [0.5, 0.5] }, /more than can be counted exactly/],
    ['no dividing combination', { hidden: [100, 100, 1], heads: [3], kvHeads: [1] }, /no hidden size in 100-100:1 is divisible by heads 3/],
    ['low above high', { layers: [8, 4] }, /low 8 is above high 4/],
    ['an empty head list', { heads: [] }, /heads: must be a non-empty list/],
  ])('refuses %s before the first line', (_name, decoder, message) => {
    const error = refusal(decoder);
    expect(error?.code).toBe('E_ARGUMENT');
    expect(error?.message).toMatch(message);
    expect(() => [...sampleSpaceLines('hf-decoder', { count: 1, decoder })]).toThrow(message);
  });

  it('accepts the defaults and ranges at the limits, and those lines build', () => {
    expect(() => checkDecoderRanges(DEFAULT_DECODER_RANGES)).not.toThrow();
    const edge: Partial<DecoderRanges> = { layers: [MAX_LAYERS, MAX_LAYERS], hidden: [64, 64, 1], heads: [4], kvHeads: [1], ffnRatio: [4, 4], vocab: MAX_DIMENSION };
    expect(refusal(edge)).toBeUndefined();
    const [line] = [...sampleSpaceLines('hf-decoder', { count: 1, decoder: edge })];
    expect(buildPlan(JSON.parse(line)).layers).toHaveLength(MAX_LAYERS);
  });

  it('every line of randomly drawn accepted ranges builds and scores (analytic)', async () => {
    const random = seededRandom(16);
    const int = (low: number, high: number): number => low + Math.floor(random() * (high - low + 1));
    const choose = (): number[] => Array.from({ length: int(1, 3) }, () => 2 ** int(0, 6));
    let accepted = 0;
    for (let round = 0; round < 60; round++) {
      const layersLow = int(1, 40);
      const hiddenLow = int(1, 4096);
      const decoder: Partial<DecoderRanges> = {
        layers: [layersLow, layersLow + int(0, 40)],
        hidden: [hiddenLow, hiddenLow + int(0, 8192), int(1, 512)],
        heads: choose(),
        kvHeads: choose(),
        ffnRatio: [0.1 + random() * 4, 4.1 + random() * 8],
        vocab: int(1, 2 * MAX_DIMENSION),
      };
      if (refusal(decoder) !== undefined) continue;
      accepted++;
      for (const line of sampleSpaceLines('hf-decoder', { count: 5, seed: round, decoder })) {
        const result = await score(JSON.parse(line), { mode: 'analytic' });
        expect(Number.isFinite(result.score)).toBe(true);
      }
    }
    expect(accepted).toBeGreaterThan(10);
  });
});
