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
