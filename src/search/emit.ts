/**
 * Configs to train a chosen architecture (`zerolm search --emit-hf DIR`).
 * - hf, uniform layers: the family's own Hugging Face config (the candidate is already one; lists become scalars).
 * - hf, layers that differ: the per-layer lists zerolm reads (`num_attention_heads: [..]`), plus OpenELM's per-layer
 *   fields (`num_query_heads`, `num_kv_heads`, `ffn_dim_per_layer`). OpenELM-style arrays were chosen over
 *   Nemotron-NAS `block_configs` because a search choice here is a count per layer (heads, widths), which is what
 *   OpenELM's arrays hold; block_configs describe replacing or skipping whole blocks. transformers' Llama classes do
 *   not read per-layer lists: such a config needs a model class that does.
 * - gpt2-flex, uniform: a transformers GPT2Config (n_embd, n_layer, n_head, n_inner, vocab_size, n_positions).
 *   Layers that differ: the candidate as it is, in LTS's own per-layer-list format (archai's config).
 * - transformer-xl, uniform: a transformers TransfoXLConfig (model_type transfo-xl: d_model, d_embed, n_head, d_head,
 *   d_inner, div_val, cutoffs without the vocabulary's end, untie_r for the per-layer r_w_bias/r_r_bias,
 *   proj_share_all_but_first for LTS's tie_projs [false, true, ...]). Layers that differ: LTS's own config.
 * - nas-bench-bert: the benchmark's own JSON, `model_hparam_overrides` as in BERT_benchmark.json's hparams.
 */
export function hfConfigOf(family: string, architecture: Record<string, unknown>): Record<string, unknown> {
  const uniform = (value: unknown): boolean => !Array.isArray(value) || value.every((v) => v === value[0]);
  const scalar = (value: unknown): unknown => (Array.isArray(value) ? value[0] : value);
  if (family === 'nas-bench-bert') {
    const { hidden_size, nas_config } = architecture as { hidden_size: unknown; nas_config: unknown };
    return { hparams: { model_hparam_overrides: { hidden_size, nas_config } } };
  }
  if (family === 'gpt2-flex') {
    const a = architecture as Record<string, unknown>;
    if (!uniform(a.n_head) || !uniform(a.d_inner)) return { ...a };
    return {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      vocab_size: a.n_token,
      n_embd: a.d_model,
      n_layer: a.n_layer,
      n_head: scalar(a.n_head),
      n_inner: scalar(a.d_inner),
      n_positions: a.tgt_len,
      initializer_range: a.weight_init_std,
      tie_word_embeddings: a.tie_weight,
    };
  }
  if (family === 'transformer-xl') {
    const a = architecture as Record<string, unknown>;
    const tieProjections = (a.tie_projs as boolean[] | undefined) ?? [];
    // transformers ties all projections but the first, or none: another pattern keeps LTS's config.
    const shareAllButFirst = tieProjections.length > 1 && !tieProjections[0] && tieProjections.slice(1).every(Boolean);
    if (!uniform(a.n_head) || !uniform(a.d_inner) || (!shareAllButFirst && tieProjections.some(Boolean))) return { ...a };
    const dModel = a.d_model as number;
    const heads = scalar(a.n_head) as number;
    const cutoffs = a.cutoffs as number[];
    return {
      architectures: ['TransfoXLLMHeadModel'],
      model_type: 'transfo-xl',
      vocab_size: a.n_token,
      cutoffs: cutoffs.slice(0, -1),
      d_model: dModel,
      d_embed: a.d_embed,
      n_head: heads,
      d_head: typeof a.d_head === 'number' && a.d_head > 0 ? a.d_head : Math.floor(dModel / heads),
      d_inner: scalar(a.d_inner),
      div_val: a.div_val,
      n_layer: a.n_layer,
      mem_len: a.mem_len,
      tgt_len: a.tgt_len,
      attn_type: 0,
      untie_r: true,
      pre_lnorm: false,
      adaptive: a.adaptive,
      proj_share_all_but_first: shareAllButFirst,
      tie_word_embeddings: a.tie_weight,
      init_std: a.weight_init_std,
      proj_init_std: a.proj_init_std ?? 0.01,
    };
  }
  const perLayer = ['num_attention_heads', 'num_key_value_heads', 'intermediate_size'];
  if (perLayer.every((f) => uniform(architecture[f]))) {
    const config: Record<string, unknown> = { ...architecture };
    for (const f of perLayer) if (f in config) config[f] = scalar(config[f]);
    return config;
  }
  const list = (field: string): unknown[] | undefined => {
    const value = architecture[field];
    const n = architecture.num_hidden_layers as number;
    return value === undefined ? undefined : Array.isArray(value) ? value : new Array(n).fill(value);
  };
  return { ...architecture, num_query_heads: list('num_attention_heads'), num_kv_heads: list('num_key_value_heads'), ffn_dim_per_layer: list('intermediate_size') };
}
