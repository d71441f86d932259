/** The ranges of the built-in search spaces, shared by the sampler (src/search/sample.ts) and the compiled spaces. */

/** The FlexiBERT space of the nas-bench-bert benchmark (its search_space.json). */
export const FLEXIBERT_SPACE = Object.freeze({
  hiddenSize: [128, 256],
  layerCount: [2, 4],
  operations: { SA: ['SDP', 'WMA'], LT: ['DFT', 'DCT'], DSC: [5, 9] } as Record<string, readonly (string | number)[]>,
  heads: [2, 4],
  feedForwardDimension: [512, 1024],
  feedForwardCount: [1, 3],
} as const);

/** The LTS GPT-2 space as its 200 benchmark configs span it (n_layer 2-16, d_model 64-512, per-layer heads and d_inner). */
export const LTS_SPACE = Object.freeze({
  layers: [2, 16],
  dModel: [64, 128, 256, 512],
  dEmbed: [128, 256, 512],
  divVal: [1, 2, 4],
  heads: [2, 4, 8],
  dInner: [512, 2048],
} as const);

/**
 * The LTS Transformer-XL space as its 200 benchmark configs span it: the GPT-2 space's widths, heads and adaptive
 * embeddings with n_layer 5-8, the word-level WikiText-103 vocabulary, d_head derived per layer.
 */
export const LTS_TXL_SPACE = Object.freeze({ ...LTS_SPACE, layers: [5, 8] } as const);

/** Ranges of the HF decoder space: [low, high] or a step grid "low-high:step", and choice lists. */
export interface DecoderRanges {
  layers: [number, number];
  hidden: [number, number, number];
  heads: number[];
  kvHeads: number[];
  /** intermediate_size as a multiple of hidden, [low, high], rounded to a multiple of 256. */
  ffnRatio: [number, number];
  vocab: number;
}

const decoderDefaults: DecoderRanges = { layers: [4, 32], hidden: [512, 4096, 256], heads: [8, 16, 32], kvHeads: [1, 2, 4, 8], ffnRatio: [2, 4], vocab: 32000 };
export const DEFAULT_DECODER_RANGES: Readonly<DecoderRanges> = Object.freeze(decoderDefaults);

