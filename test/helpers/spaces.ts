/** Small search spaces for tests: cheap to compile in exact mode, yet with every kind of choice. */
import type { SpaceDefinition } from '../../src/space';

/** GPT-2-flex: depth changes the residual init, d_embed and div_val only the embeddings. */
export const smallLts: SpaceDefinition = {
  family: 'gpt2-flex',
  fixed: { n_token: 1000, cutoffs: [500, 1000], tie_weight: true, tie_projs: [false, true], adaptive: true, weight_init_std: 0.02, tgt_len: 64 },
  globals: { d_model: [32, 64] },
  embeddingGlobals: { d_embed: [32, 64], div_val: [1, 2] },
  depths: [1, 2, 3],
  layerChoices: { n_head: [2, 4], d_inner: [64, 96, 128] },
};

/** Transformer-XL: per-layer heads set each layer's head width (d_head derived), d_embed and div_val only the embeddings. */
export const smallTxl: SpaceDefinition = {
  family: 'transformer-xl',
  fixed: { model_type: 'mem_transformer', d_head: -1, n_token: 1000, cutoffs: [500, 1000], tie_weight: true, tie_projs: [false, true], adaptive: true, attn_type: 0, weight_init_std: 0.02, tgt_len: 64 },
  globals: { d_model: [32, 64] },
  embeddingGlobals: { d_embed: [32, 64], div_val: [1, 2] },
  depths: [1, 2, 3],
  layerChoices: { n_head: [2, 4], d_inner: [64, 96, 128] },
};
