/**
 * NSC, "Neural Spectral Capacity" (Zhu, Zhao, Lu, 2026), as its public code computes it
 * (Optima-CityU/neural-spectral-capacity: nsc/nsc_utils.py, ranking/compute_flexibert.py, ranking/compute_gpt2.py).
 * A peer proxy for side-by-side tables; zerolm's own scores do not use it.
 *
 * psi(m x n, sigma) = E[sum ln(1 + s_i^2)] for an m x n matrix of i.i.d. entries of variance sigma^2, under the
 * Marchenko-Pastur law: min(m, n) times the MP Shannon transform at sigma^2 max(m, n). NSC integrates the MP density
 * numerically (scipy quad); zerolm's expectedLogDet is the same expectation in closed form (Verdu's formula).
 * An architecture's NSC is a flat sum of psi over its layer matrices, embeddings left out, from its shapes alone.
 *
 * Recipes, by family (what NSC's code does for each benchmark):
 * - nas-bench-bert (FlexiBERT, ranking/compute_flexibert.py): no model is built. With the entry's own hidden size H,
 *   per layer the operation SA = psi(3H x H) + psi(H x H) (Q, K and V merged), LT = 2 psi(H x H),
 *   DSC = psi(H x H), whatever its heads and operation_parameter; the FFN as num_feed_forward parallel branches of
 *   width w = feed_forward_dimension // num_feed_forward, each psi(w x H) + psi(H x w); sigma is Xavier's
 *   sqrt(2 / (m + n)) per matrix.
 * - gpt2-flex (LTS GPT-2, ranking/compute_gpt2.py): per layer Q, K and V split per head, 3 n_head psi(d x d_head)
 *   with d_head = d_model // n_head, plus the output psi(d x d) and the FFN psi(d_inner x d) + psi(d x d_inner);
 *   sigma 0.02 there, weight_init_std here (0.02 in every LTS config; NSC fixes it at GPT-2's init).
 * - transformer-xl (no NSC recipe published for ranking; the natural analogue of the GPT-2 one): Q, K and V per head,
 *   the relative-position projection r_net per head too (it is the positions' key projection, viewed per head like
 *   K), 4 n_head psi(d x d_head), plus the output psi(d x n_head d_head) and the FFN; sigma weight_init_std (0.02).
 *   NSC's own Transformer-XL search script (search/txl/nsc_dp_search.py) scores merged QKV and the output only, with
 *   no r_net; on lts-txl-wt103 the three variants rank within 0.002 of each other in Kendall tau.
 */
import { detectFamily, parseGpt2Flex, parseNasBenchBert, parseTransformerXl } from '../arch';
import type { FamilyName } from '../arch/types';
import { expectedLogDet } from '../capacity/analytic';
import { ZeroLMError } from '../errors';
import type { Benchmark } from './benchmarks';

/** psi(m x n, sigma): the MP expectation of sum ln(1 + s_i^2) for i.i.d. entries of standard deviation sigma. */
export function nscPsi(rows: number, cols: number, sigma: number): number {
  return expectedLogDet(rows, cols, sigma * sigma);
}

/** psi with Xavier's sigma^2 = 2 / (m + n), NSC's default. */
function xavierPsi(rows: number, cols: number): number {
  return expectedLogDet(rows, cols, 2 / (rows + cols));
}

/** The families NSC's recipes cover. */
export const NSC_FAMILIES: readonly FamilyName[] = ['nas-bench-bert', 'gpt2-flex', 'transformer-xl'];

function flexibertNsc(input: unknown): number {
  const { hiddenSize: h, layers } = parseNasBenchBert(input);
  let total = 0;
  for (const layer of layers) {
    const type = layer.operation.type;
    if (type === 'SA') total += xavierPsi(3 * h, h) + xavierPsi(h, h);
    else if (type === 'LT') total += 2 * xavierPsi(h, h);
    else total += xavierPsi(h, h);
    const branches = layer.feedForwardCount;
    const width = Math.floor(layer.feedForwardDimension / branches);
    if (width > 0) total += branches * (xavierPsi(width, h) + xavierPsi(h, width));
  }
  return total;
}

function gpt2Nsc(input: unknown): number {
  const a = parseGpt2Flex(input);
  const d = a.modelSize;
  const sigma = a.weightInitStd;
  let total = 0;
  for (let i = 0; i < a.layerCount; i++) {
    const heads = a.heads[i];
    const inner = a.innerSizes[i];
    total += 3 * heads * nscPsi(d, Math.floor(d / heads), sigma) + nscPsi(d, d, sigma);
    total += nscPsi(inner, d, sigma) + nscPsi(d, inner, sigma);
  }
  return total;
}

function transformerXlNsc(input: unknown): number {
  const a = parseTransformerXl(input);
  const d = a.modelSize;
  const sigma = a.weightInitStd;
  let total = 0;
  for (let i = 0; i < a.layerCount; i++) {
    const heads = a.heads[i];
    const headSize = a.headSizes[i];
    const inner = a.innerSizes[i];
    // query, key, value and r_net, each per head; the output over all heads.
    total += 4 * heads * nscPsi(headSize, d, sigma) + nscPsi(d, heads * headSize, sigma);
    total += nscPsi(inner, d, sigma) + nscPsi(d, inner, sigma);
  }
  return total;
}

/**
 * NSC of one architecture in its raw form (a benchmark entry's `architecture`, a model_config, a FlexiBERT entry);
 * the family is detected unless given. Higher predicts a better model. Families without an NSC recipe are refused
 * with E_UNSUPPORTED.
 */
export function nscScore(architecture: unknown, family?: FamilyName): number {
  const chosen = family ?? detectFamily(architecture);
  switch (chosen) {
    case 'nas-bench-bert':
      return flexibertNsc(architecture);
    case 'gpt2-flex':
      return gpt2Nsc(architecture);
    case 'transformer-xl':
      return transformerXlNsc(architecture);
    default:
      throw new ZeroLMError('E_UNSUPPORTED', `NSC's recipe covers the families ${NSC_FAMILIES.join(', ')}, not ${JSON.stringify(chosen)}`, { field: 'family' });
  }
}

/** NSC of every entry of a benchmark, in entry order. */
export function nscScores(benchmark: Pick<Benchmark, 'family' | 'entries'>): Float64Array {
  return Float64Array.from(benchmark.entries, (entry) => nscScore(entry.architecture, benchmark.family));
}
