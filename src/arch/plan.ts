/**
 * Small helpers every builder uses to assemble a ModelPlan: matrix specs, Linear parameter counts, and the final
 * totals with their invariants (total = embedding + sum over layers of attention + ffn + other).
 */
import { ZeroLMError } from '../errors';
import type { FamilyName, InitScheme, LayerPlan, MatrixSpec, ModelPlan } from './types';

export const normalInit = (std: number): InitScheme => ({ scheme: 'normal', std });

export function matrix(name: string, rows: number, cols: number, init: InitScheme, heads?: number, headAxis?: 'rows' | 'cols'): MatrixSpec {
  const spec: MatrixSpec = { name, rows, cols, init };
  if (heads !== undefined && headAxis !== undefined) {
    spec.heads = heads;
    spec.headAxis = headAxis;
  }
  return spec;
}

/** Parameters of a Linear layer with `rows` outputs and `cols` inputs. */
/**
 * BERT-style input embeddings: word, position and token-type tables of width `embeddingSize`, their LayerNorm, and a
 * projection to `hidden` when the two differ (ELECTRA).
 */
export function bertEmbeddings(
  sizes: { vocab: number; positions: number; tokenTypes: number; embeddingSize: number; hidden: number },
  init: InitScheme,
): { extras: MatrixSpec[]; params: number } {
  const { vocab, positions, tokenTypes, embeddingSize, hidden } = sizes;
  const extras = [
    matrix('embeddings.word', vocab, embeddingSize, init),
    matrix('embeddings.position', positions, embeddingSize, init),
    matrix('embeddings.token_type', tokenTypes, embeddingSize, init),
  ];
  let params = (vocab + positions + tokenTypes) * embeddingSize + layerNormParams(embeddingSize);
  if (hidden !== embeddingSize) {
    extras.push(matrix('embeddings.project', hidden, embeddingSize, init));
    params += linearParams(hidden, embeddingSize, true);
  }
  return { extras, params };
}

export function linearParams(rows: number, cols: number, bias: boolean): number {
  return rows * cols + (bias ? rows : 0);
}

/** Parameters of a LayerNorm (weight and bias) over `width` features. */
export function layerNormParams(width: number): number {
  return 2 * width;
}

export interface PlanParts extends Pick<ModelPlan, 'id' | 'family' | 'build' | 'hiddenSize' | 'layers' | 'extras'> {
  /** Every parameter outside the layers: embeddings, their norms and projections, heads (pooler, LM/softmax head). */
  embeddingParams: number;
  /** Mixture of experts: parameters of the routed experts a token skips; gives params.active. */
  inactiveParams?: number;
  warnings?: string[];
}

/** Sums the layer counts, checks that every total is an exact (safe) integer, and returns the plan. */
export function finishPlan(parts: PlanParts): ModelPlan {
  const plan = assemblePlan(parts.id, parts.family, parts.build, parts.hiddenSize, parts.layers, parts.extras, parts.embeddingParams);
  if (parts.inactiveParams !== undefined) plan.params.active = plan.params.total - parts.inactiveParams;
  if (parts.warnings !== undefined && parts.warnings.length > 0) plan.warnings = parts.warnings;
  return plan;
}

/** finishPlan without the parts object: what the hot builders call. */
export function assemblePlan(
  id: string | undefined,
  family: FamilyName,
  build: string,
  hiddenSize: number,
  layers: LayerPlan[],
  extras: MatrixSpec[],
  embedding: number,
): ModelPlan {
  let attention = 0;
  let ffn = 0;
  let other = 0;
  for (let i = 0; i < layers.length; i++) {
    const params = layers[i].params;
    attention += params.attention;
    ffn += params.ffn;
    other += params.other;
  }
  const total = embedding + attention + ffn + other;
  if (!Number.isSafeInteger(total)) {
    throw new ZeroLMError('E_FORMAT', `the architecture has about ${total.toExponential(3)} parameters, more than can be counted exactly (2^53)`);
  }
  const params = { total, nonEmbedding: total - embedding, embedding, attention, ffn };
  // Same key order as always (id first when there is one): JSON output of plans stays byte-identical.
  return id === undefined
    ? { family, build, hiddenSize, layers, extras, params }
    : { id, family, build, hiddenSize, layers, extras, params };
}

/** The id carried by an input: a string, or a number rendered as a string. */
export function idOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}
