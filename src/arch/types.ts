/**
 * The architecture model every builder produces and every consumer reads.
 * Pure data: no native code, no scoring. Shapes follow PyTorch's Linear weight layout, rows = out features,
 * cols = in features.
 *
 * Plans and all their parts are immutable: copy a plan before changing it. Builders memoise (src/arch/memo.ts): plans
 * of different architectures share one LayerPlan object for the same layer (same family build, hidden size, init,
 * index and fields), and share matrix specs, init schemes and extras too, so consumers may memoise per-layer work by
 * object identity. Every shared part is frozen (writing to it throws in strict mode).
 */
import type { BuildMemo } from './memo';

/** How a matrix is initialised. Schemes that depend on fan-in/out are resolved per shape in src/weights/. */
export type InitScheme =
  | { scheme: 'normal'; std: number }
  | { scheme: 'uniform'; bound: number }
  | { scheme: 'xavier-normal'; gain?: number }
  | { scheme: 'xavier-uniform'; gain?: number }
  | { scheme: 'kaiming-normal'; gain?: number; mode?: 'fan-in' | 'fan-out' };

export interface MatrixSpec {
  /** Stable, position-bearing name, e.g. "layers.0.attention.query". */
  name: string;
  rows: number;
  cols: number;
  init: InitScheme;
  /**
   * Heads, where the matrix belongs to multi-head attention. A per-head decomposition splits the matrix along
   * `headAxis` into `heads` equal slices: 'rows' for Q/K/V-style projections (out features are per head),
   * 'cols' for output projections (in features are per head).
   */
  heads?: number;
  headAxis?: 'rows' | 'cols';
}

export interface LayerPlan {
  /** Token-mixing block: attention projections, or the weights of whatever operation mixes tokens. */
  attention: MatrixSpec[];
  /** Feed-forward block matrices, in order. */
  ffn: MatrixSpec[];
  /**
   * Parameter counts of the layer, including biases, LayerNorms and non-matrix weights (conv kernels, ...).
   * attention + ffn + other = all parameters of the layer.
   */
  params: { attention: number; ffn: number; other: number };
  /** What the builder knows about the layer, for reports (operation type, heads, widths). */
  description?: Record<string, string | number>;
}

export type FamilyName = 'nas-bench-bert' | 'gpt2-flex' | 'transformer-xl' | 'hf' | 'modules';
/** Builds of the families: nas-bench-bert's three ('as-trained' its default), hf's 'active-experts', 'default' for the others. */
export type BuildName = 'as-trained' | 'as-specified' | 'lpzero' | 'active-experts' | 'default';

export interface ModelPlan {
  /** Identifier from the input (benchmark id, file name), when it has one. */
  id?: string;
  family: FamilyName;
  /** Which build of the family produced this plan, e.g. 'as-trained', 'as-specified', 'lpzero', 'default'. */
  build: string;
  hiddenSize: number;
  layers: LayerPlan[];
  /** Embeddings, projections, LM head: counted in params, never scored. */
  extras: MatrixSpec[];
  params: {
    total: number;
    /** total - embedding */
    nonEmbedding: number;
    embedding: number;
    /** sum of layer.params.attention */
    attention: number;
    /** sum of layer.params.ffn */
    ffn: number;
    /**
     * Mixture-of-experts models only: the parameters one token uses, total minus the routed experts it skips
     * (embeddings included, as published "active" counts are).
     */
    active?: number;
  };
  /**
   * What the builder could not honour, e.g. config keys that would change the architecture but that it does not
   * read. Present only when there is something to say.
   */
  warnings?: string[];
}

export interface BuildOptions {
  /** Family-specific build name; each family documents its builds and its default. */
  build?: BuildName;
  /** Replaces the family's default init for every scored matrix. */
  init?: InitScheme;
  /** hf: refuse (E_UNSUPPORTED) a config with architecture-changing keys its builder ignores, instead of warning. */
  strictConfig?: boolean;
  /**
   * Plans built with one memo share their identical layers (frozen objects), so consumers can memoise per-layer work
   * by identity; without one, a plan shares nothing with any other. A scorer holds its own.
   */
  memo?: BuildMemo;
}
