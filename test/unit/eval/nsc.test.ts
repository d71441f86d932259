import { loadBenchmark } from '../../../src/eval/benchmarks';
import { nscPsi, nscScore, nscScores } from '../../../src/eval/nsc';
import { kendallTauB, spearman } from '../../../src/stats/rank';
import { zerolmErrorOf as thrown } from '../../helpers/zerolm-error';

/**
 * NSC's own definition of psi, integrated numerically as its nsc_utils.py does: min(m, n) times the integral of
 * ln(1 + sigma^2 max(m, n) x) against the Marchenko-Pastur density of ratio min/max (mean 1). The substitution
 * x = centre + half-width * sin(t) removes the square-root edges; composite Simpson then converges fast.
 */
function integratedPsi(m: number, n: number, sigma: number): number {
  const small = Math.min(m, n);
  const large = Math.max(m, n);
  const ratio = small / large;
  const lower = (1 - Math.sqrt(ratio)) ** 2;
  const upper = (1 + Math.sqrt(ratio)) ** 2;
  const centre = (upper + lower) / 2;
  const half = (upper - lower) / 2;
  const steps = 4000;
  const f = (t: number): number => {
    const x = centre + half * Math.sin(t);
    const density = (half * Math.cos(t)) / (2 * Math.PI * ratio * x); // sqrt((u - x)(x - l)) dx = half^2 cos^2 t dt
    return Math.log1p(sigma * sigma * large * x) * density * half * Math.cos(t);
  };
  const a = -Math.PI / 2;
  const h = Math.PI / steps;
  let sum = f(a) + f(-a);
  for (let i = 1; i < steps; i++) sum += f(a + i * h) * (i % 2 === 1 ? 4 : 2);
  return small * ((sum * h) / 3);
}

describe('nscPsi: the Marchenko-Pastur expectation of sum ln(1 + s^2)', () => {
  test.each([
    [3 * 128, 128, Math.sqrt(2 / (4 * 128))],
    [256, 341, Math.sqrt(2 / (256 + 341))],
    [512, 64, 0.02],
    [1024, 960, 0.02],
    [1871, 128, 0.02],
  ])('%i x %i, sigma %f: equals the integral NSC computes', (m, n, sigma) => {
    const closed = nscPsi(m, n, sigma);
    expect(Math.abs(closed - integratedPsi(m, n, sigma)) / closed).toBeLessThan(1e-7);
    expect(nscPsi(n, m, sigma)).toBeCloseTo(closed, 12);
  });
});

describe('nscScore recipes', () => {
  test('FlexiBERT: merged QKV for SA, two or one H x H for LT and DSC, FFN branches of width f // k, Xavier sigma', () => {
    const entry = {
      hidden_size: 256,
      nas_config: {
        encoder_layers: [
          { operation_type: 'SA', operation_parameter: 'WMA', num_operation_heads: 4, feed_forward_dimension: 1024, num_feed_forward: 3 },
          { operation_type: 'LT', operation_parameter: 'DFT', num_operation_heads: 2, feed_forward_dimension: 512, num_feed_forward: 1 },
          { operation_type: 'DSC', operation_parameter: 9, num_operation_heads: 2, feed_forward_dimension: 512, num_feed_forward: 1 },
        ],
      },
    };
    const xavier = (m: number, n: number): number => nscPsi(m, n, Math.sqrt(2 / (m + n)));
    const ffn = (width: number, count: number): number => count * (xavier(width, 256) + xavier(256, width));
    const expected =
      xavier(768, 256) + xavier(256, 256) + ffn(341, 3) + 2 * xavier(256, 256) + ffn(512, 1) + xavier(256, 256) + ffn(512, 1);
    expect(nscScore(entry)).toBeCloseTo(expected, 9);
    // Heads and operation_parameter do not enter.
    const other = structuredClone(entry);
    other.nas_config.encoder_layers[0].num_operation_heads = 2;
    other.nas_config.encoder_layers[0].operation_parameter = 'SDP';
    expect(nscScore(other)).toBe(nscScore(entry));
  });

  test('GPT-2: Q, K, V per head, output and FFN whole, sigma 0.02', () => {
    const config = { n_layer: 2, d_model: 128, n_head: [2, 8], d_inner: [300, 500], n_token: 1000 };
    const psi = (m: number, n: number): number => nscPsi(m, n, 0.02);
    const layer = (heads: number, inner: number): number => 3 * heads * psi(128, 128 / heads) + psi(128, 128) + psi(inner, 128) + psi(128, inner);
    expect(nscScore(config)).toBeCloseTo(layer(2, 300) + layer(8, 500), 9);
  });

  test('Transformer-XL: Q, K, V and r_net per head, output and FFN whole', () => {
    const config = { model_type: 'mem_transformer', n_layer: 2, d_model: 128, n_head: [2, 8], d_inner: [300, 500], n_token: 1000 };
    const psi = (m: number, n: number): number => nscPsi(m, n, 0.02);
    const layer = (heads: number, inner: number): number => 4 * heads * psi(128 / heads, 128) + psi(128, 128) + psi(inner, 128) + psi(128, inner);
    expect(nscScore(config)).toBeCloseTo(layer(2, 300) + layer(8, 500), 9);
    expect(nscScore({ ...config, model_type: undefined }, 'transformer-xl')).toBe(nscScore(config));
  });

  test('families without a recipe are refused', () => {
    const error = thrown(() => nscScore({ format: 'modules', layers: [] }));
    expect(error.code).toBe('E_UNSUPPORTED');
    expect(error.message).toContain('nas-bench-bert, gpt2-flex, transformer-xl');
  });
});

describe("NSC's published figures", () => {
  test('nas-bench-bert, all 500 against scores.glue: Kendall tau-b 0.695, Spearman 0.884', () => {
    const bench = loadBenchmark('nas-bench-bert');
    const score = nscScores(bench);
    const glue = bench.entries.map((e) => e.label);
    expect(Math.abs(kendallTauB(score, glue) - 0.695)).toBeLessThan(0.002);
    expect(Math.abs(spearman(score, glue) - 0.884)).toBeLessThan(0.002);
  });

  test('lts-gpt2-wt103 against -valid_ppl: Kendall tau 0.849, Spearman 0.968', () => {
    const bench = loadBenchmark('lts-gpt2-wt103');
    const score = nscScores(bench);
    const quality = bench.entries.map((e) => -e.label);
    expect(kendallTauB(score, quality)).toBeCloseTo(0.849, 3);
    expect(spearman(score, quality)).toBeCloseTo(0.968, 3);
  });
});
