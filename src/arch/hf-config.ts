/**
 * hf: Hugging Face config.json files, dispatched on model_type.
 *
 * - Encoders (bert, roberta, xlm-roberta, electra): the base model (BertModel / RobertaModel with their pooler,
 *   ElectraModel without one, and with its embedding_size -> hidden projection when they differ). Q, K, V, output
 *   hidden x hidden with biases; FFN up hidden -> intermediate, down intermediate -> hidden with biases; two
 *   LayerNorms per layer. Embeddings: word, position (max_position_embeddings, default 512), token type
 *   (type_vocab_size, default 2), LayerNorm. No masked-LM head.
 * - gpt2: GPT2LMHeadModel. c_attn scored as query/key/value (n_embd x n_embd each), c_proj as output; c_fc as
 *   ffn.up (n_inner, default 4*n_embd), c_proj as ffn.down; all with biases; learned positions n_positions
 *   (default 1024); final LayerNorm; LM head tied unless tie_word_embeddings is false.
 * - Decoders with gated MLPs (llama, mistral, qwen2, qwen3, gemma): grouped-query attention, K/V rows =
 *   num_key_value_heads * head_dim (head_dim from config.head_dim, else hidden_size / num_attention_heads);
 *   q_proj, k_proj, v_proj, o_proj; gate_proj, up_proj, down_proj; RMSNorms (weight only) before attention and
 *   MLP, and a final one. Biases: qwen2 on q/k/v always; llama, qwen3 and gemma on q/k/v/o when attention_bias;
 *   llama on the MLP when mlp_bias; mistral none. qwen3 adds per-head RMSNorms on queries and keys (head_dim each).
 *   The LM head (vocab x hidden, no bias) is separate unless tie_word_embeddings (default false, gemma true).
 *
 * - The gated decoders above, gemma2, gemma3_text (and gemma3, built from its text_config), phi3, mixtral, qwen2_moe,
 *   qwen3_moe, deepseek_v2 and deepseek_v3: hf/decoders.ts. opt, gpt_neox and falcon: hf/classic.ts. t5: hf/t5.ts. Each
 *   file says what it counts; every family's layers are assembled by hf/common.ts.
 * - Mixture of experts: build 'default' scores every expert, 'active-experts' only the num_experts_per_tok a token
 *   uses; params.active is the active count either way (hf/decoders.ts).
 * - Config keys that would change the architecture but that the model type's builder does not read (expert counts on
 *   a dense type, MLA ranks, ...) give a plan warning naming them; strictConfig makes them E_UNSUPPORTED (hf/common.ts).
 *
 * Per-layer overrides: num_attention_heads, num_key_value_heads and intermediate_size (n_head and n_inner for gpt2)
 * may be lists with one entry per layer.
 *
 * Counting conventions: LayerNorms/RMSNorms go to a layer's `other`, the final norm to the last layer's `other`;
 * embeddings, embedding projection, pooler and an untied LM head are `embedding`.
 *
 * Default init: normal with std initializer_range (default 0.02), as the transformers _init_weights functions draw;
 * for gpt2 the c_proj weights (attention output, ffn.down) use initializer_range / sqrt(2 * n_layer), as
 * GPT2PreTrainedModel does.
 */
import { ZeroLMError } from '../errors';
import {
  fieldError,
  readOptionalBoolean,
  readOptionalFiniteNumber,
  readOptionalPerLayer,
  readOptionalPositiveInteger,
  readPerLayer,
  readRecord,
  readString,
  requireRecord,
  resolveBuildOptions,
  type FamilyBuildOptions,
  type JsonRecord,
} from './fields';
import { assemblePlan, bertEmbeddings, idOf, layerNormParams, linearParams, matrix, normalInit } from './plan';
import type { InitScheme, LayerPlan, ModelPlan } from './types';
import { buildFalcon, buildGptNeox, buildOpt, CLASSIC_KEYS } from './hf/classic';
import {
  assembleLayer,
  headsDividing,
  layerStyle,
  PLAIN_NAMING,
  readSizes,
  unreadKeysWarning,
  withWordTables,
  type Built,
} from './hf/common';
import { buildDecoder, DECODER_KEYS, DECODER_TYPES, type DecoderType } from './hf/decoders';
import { buildT5, T5_KEYS } from './hf/t5';

/** 'active-experts' scores, in mixture-of-experts layers, only the experts one token uses (see hf/decoders.ts). */
export const HF_BUILDS = ['default', 'active-experts'] as const;
export const HF_DEFAULT_BUILD = 'default';

const ENCODER_TYPES = ['bert', 'roberta', 'xlm-roberta', 'electra'] as const;
export const HF_MODEL_TYPES: readonly string[] = [...ENCODER_TYPES, 'gpt2', ...DECODER_TYPES, 'gemma3', 'opt', 'gpt_neox', 'falcon', 't5'];

const ENCODER_KEYS = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size', 'initializer_range'];
/** The config keys each model type's builder reads: a key that would change the architecture and is not here is warned about. */
const KEYS_READ: Record<string, ReadonlySet<string>> = {
  bert: new Set(ENCODER_KEYS),
  roberta: new Set(ENCODER_KEYS),
  'xlm-roberta': new Set(ENCODER_KEYS),
  electra: new Set([...ENCODER_KEYS, 'embedding_size']),
  gpt2: new Set(['vocab_size', 'n_embd', 'n_layer', 'n_head', 'n_inner', 'n_positions', 'tie_word_embeddings', 'initializer_range']),
  ...DECODER_KEYS,
  ...CLASSIC_KEYS,
  t5: T5_KEYS,
};

type EncoderType = (typeof ENCODER_TYPES)[number];

function buildEncoder(record: JsonRecord, modelType: EncoderType, scoredInit: InitScheme | undefined): Built {
  const { vocab, hidden, layerCount } = readSizes(record);
  const heads = readPerLayer(record, 'num_attention_heads', '', layerCount);
  headsDividing(record, 'num_attention_heads', heads, hidden, 'hidden_size');
  const inner = readPerLayer(record, 'intermediate_size', '', layerCount);
  const positions = readOptionalPositiveInteger(record, 'max_position_embeddings', '', 512);
  const tokenTypes = readOptionalPositiveInteger(record, 'type_vocab_size', '', 2);
  const embeddingSize = modelType === 'electra' ? readOptionalPositiveInteger(record, 'embedding_size', '', hidden) : hidden;
  const std = readOptionalFiniteNumber(record, 'initializer_range', '', 0.02);
  const tableInit = normalInit(std);
  const style = layerStyle({ hidden, naming: PLAIN_NAMING, init: scoredInit ?? tableInit, qkvBias: true, outputBias: true, mlpBias: true });
  const layers: LayerPlan[] = [];
  for (let i = 0; i < layerCount; i++) {
    layers.push(assembleLayer(style, i, heads[i], heads[i], hidden / heads[i], inner[i], 2 * layerNormParams(hidden), { heads: heads[i], intermediate: inner[i] }));
  }
  const embeddings = bertEmbeddings({ vocab, positions, tokenTypes, embeddingSize, hidden }, tableInit);
  const extras = embeddings.extras;
  let embeddingParams = embeddings.params;
  if (modelType !== 'electra') {
    extras.push(matrix('pooler', hidden, hidden, tableInit));
    embeddingParams += linearParams(hidden, hidden, true);
  }
  return { hiddenSize: hidden, layers, extras, embeddingParams };
}

function buildGpt2(record: JsonRecord, scoredInit: InitScheme | undefined): Built {
  const { vocab, hidden, layerCount } = readSizes(record, 'n_embd', 'n_layer');
  const heads = readPerLayer(record, 'n_head', '', layerCount);
  headsDividing(record, 'n_head', heads, hidden, 'n_embd');
  const inner = readOptionalPerLayer(record, 'n_inner', '', layerCount) ?? new Array<number>(layerCount).fill(4 * hidden);
  const positions = readOptionalPositiveInteger(record, 'n_positions', '', 1024);
  const tied = readOptionalBoolean(record, 'tie_word_embeddings', '', true);
  const std = readOptionalFiniteNumber(record, 'initializer_range', '', 0.02);
  const tableInit = normalInit(std);
  const residualInit = scoredInit ?? normalInit(std / Math.sqrt(2 * layerCount));
  const style = layerStyle({ hidden, naming: PLAIN_NAMING, init: scoredInit ?? tableInit, outputInit: residualInit, ffnOutInit: residualInit, qkvBias: true, outputBias: true, mlpBias: true });
  const layers: LayerPlan[] = [];
  for (let i = 0; i < layerCount; i++) {
    const other = 2 * layerNormParams(hidden) + (i === layerCount - 1 ? layerNormParams(hidden) : 0);
    layers.push(assembleLayer(style, i, heads[i], heads[i], hidden / heads[i], inner[i], other, { heads: heads[i], intermediate: inner[i] }));
  }
  const extras = [matrix('embeddings.word', vocab, hidden, tableInit), matrix('embeddings.position', positions, hidden, tableInit)];
  return withWordTables(layers, hidden, vocab, tied, tableInit, extras, (vocab + positions) * hidden);
}

function buildOfType(record: JsonRecord, modelType: string, init: InitScheme | undefined, activeOnly: boolean): Built {
  if ((ENCODER_TYPES as readonly string[]).includes(modelType)) return buildEncoder(record, modelType as EncoderType, init);
  if (modelType === 'gpt2') return buildGpt2(record, init);
  if ((DECODER_TYPES as readonly string[]).includes(modelType)) return buildDecoder(record, modelType as DecoderType, init, activeOnly);
  if (modelType === 'opt') return buildOpt(record, init);
  if (modelType === 'gpt_neox') return buildGptNeox(record, init);
  if (modelType === 'falcon') return buildFalcon(record, init);
  if (modelType === 't5') return buildT5(record, init);
  throw fieldError('E_UNSUPPORTED', 'model_type', `${JSON.stringify(modelType)} is not supported; supported model types: ${HF_MODEL_TYPES.join(', ')}`);
}

/**
 * gemma3 (Gemma3ForConditionalGeneration): the language model of its text_config, built as gemma3_text. The vision
 * tower and projector are not part of the plan, and a warning says so.
 */
function textModelOf(record: JsonRecord): { text: JsonRecord; warning: string } {
  const text = readRecord(record, 'text_config', '');
  const inner = text.model_type ?? 'gemma3_text';
  if (inner !== 'gemma3_text') throw fieldError('E_UNSUPPORTED', 'text_config.model_type', `gemma3 needs a gemma3_text text_config, got ${JSON.stringify(inner)}`);
  return { text, warning: 'gemma3: only the language model (text_config) is built; the vision tower and projector are not counted' };
}

export function buildHfConfig(input: unknown, options?: FamilyBuildOptions): ModelPlan {
  const resolved = resolveBuildOptions(options, 'hf', HF_BUILDS, HF_DEFAULT_BUILD);
  const record = requireRecord(input, '');
  const modelType = readString(record, 'model_type', '');
  const warnings: string[] = [];
  let built: Built;
  if (modelType === 'gemma3') {
    const { text, warning } = textModelOf(record);
    try {
      built = buildDecoder(text, 'gemma3_text', resolved.init, false);
    } catch (cause) {
      // Field paths are relative to text_config: say so.
      const field = cause instanceof ZeroLMError ? cause.location?.field : undefined;
      if (field === undefined) throw cause;
      throw new ZeroLMError((cause as ZeroLMError).code, `text_config.${(cause as ZeroLMError).message}`, { field: `text_config.${field}` }, { cause });
    }
    warnings.push(warning);
    const unread = unreadKeysWarning(text, 'gemma3_text', DECODER_KEYS.gemma3_text, resolved.strictConfig, 'text_config');
    if (unread !== undefined) warnings.push(unread);
  } else {
    built = buildOfType(record, modelType, resolved.init, resolved.build === 'active-experts');
    const unread = unreadKeysWarning(record, modelType, KEYS_READ[modelType], resolved.strictConfig);
    if (unread !== undefined) warnings.push(unread);
  }
  const id = resolved.id ?? idOf(record._name_or_path) ?? idOf(record.id);
  // The fields one by one: spreading `built` into a literal took more time than building the layers.
  const plan = assemblePlan(id, 'hf', resolved.build, built.hiddenSize, built.layers, built.extras, built.embeddingParams);
  if (built.inactiveParams !== undefined) plan.params.active = plan.params.total - built.inactiveParams;
  if (warnings.length > 0) plan.warnings = warnings;
  return plan;
}
