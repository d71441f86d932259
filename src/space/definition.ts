/**
 * Search spaces as data: global choices, layer counts and per-layer choices over one family's input format. The
 * built-in spaces (nas-bench-bert, lts-gpt2, lts-txl, hf-decoder, with the sampler's ranges) are definitions like
 * any a user writes in a space file.
 *
 * Space file (JSON):
 * ```
 * { "family": "gpt2-flex" | "transformer-xl" | "hf" | "nas-bench-bert",   the builder that reads each candidate
 *   "build": "...",                                      optional, the family's build
 *   "fixed": { field: value, ... },                      optional, fields every candidate has
 *   "globals": { field: [values], ... },                 optional, one choice per candidate (may shape the layers)
 *   "embeddingGlobals": { field: [values], ... },        optional, choices that change only parameters outside the
 *                                                        layers (embeddings, heads); checked when compiled
 *   "depths": [layer counts],                            required, positive integers
 *   "layerChoices": { field: [values], ... } }           required, one choice per layer
 * ```
 * A choice value that is an object is merged into its candidate (or layer) instead of being set under the field's
 * name: `"operation": [{"operation_type": "SA", "operation_parameter": "SDP"}, ...]` chooses both fields together.
 * Per-layer choices become per-layer lists for gpt2-flex, transformer-xl and hf (`n_head: [..]`), and the objects of
 * `nas_config.encoder_layers` for nas-bench-bert. The layer count is `n_layer` (gpt2-flex, transformer-xl),
 * `num_hidden_layers` (hf),
 * or the length of `encoder_layers` (nas-bench-bert).
 */
import type { FamilyName } from '../arch/types';
import { ZeroLMError } from '../errors';
import { DEFAULT_DECODER_RANGES, FLEXIBERT_SPACE, LTS_SPACE, LTS_TXL_SPACE, type DecoderRanges } from './ranges';

export type SpaceFamily = Exclude<FamilyName, 'modules'>;
export const spaceFamilies: readonly SpaceFamily[] = ['nas-bench-bert', 'gpt2-flex', 'transformer-xl', 'hf'];

export type Choices = Readonly<Record<string, readonly unknown[]>>;

export interface SpaceDefinition {
  family: SpaceFamily;
  build?: string;
  fixed?: Readonly<Record<string, unknown>>;
  globals?: Choices;
  embeddingGlobals?: Choices;
  depths: readonly number[];
  layerChoices: Choices;
}

const KNOWN_FIELDS = ['family', 'build', 'fixed', 'globals', 'embeddingGlobals', 'depths', 'layerChoices'];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(field: string, message: string): ZeroLMError {
  return new ZeroLMError('E_FORMAT', `space.${field}: ${message}`, { field: `space.${field}` });
}

function readChoices(value: unknown, field: string, required: boolean): Choices | undefined {
  if (value === undefined && !required) return undefined;
  if (!isPlainObject(value)) throw invalid(field, `must be an object of choices (field: [values]), got ${JSON.stringify(value) ?? String(value)}`);
  const names = Object.keys(value);
  if (required && names.length === 0) throw invalid(field, 'must name at least one choice');
  for (const name of names) {
    const values = value[name];
    if (!Array.isArray(values) || values.length === 0) throw invalid(`${field}.${name}`, 'must be a non-empty array of values');
    values.forEach((v, i) => {
      if (v === undefined || v === null || typeof v === 'function') throw invalid(`${field}.${name}[${i}]`, `must be a JSON value, got ${String(v)}`);
    });
  }
  return value as Choices;
}

/** Reads and checks a space definition (a space file's JSON), field by field. */
export function readSpaceDefinition(input: unknown): SpaceDefinition {
  if (!isPlainObject(input)) throw new ZeroLMError('E_FORMAT', 'space: must be a JSON object', { field: 'space' });
  for (const key of Object.keys(input)) {
    if (!KNOWN_FIELDS.includes(key)) throw invalid(key, `unknown field; known: ${KNOWN_FIELDS.join(', ')}`);
  }
  const family = input.family;
  if (typeof family !== 'string' || !(spaceFamilies as readonly string[]).includes(family)) {
    throw invalid('family', `must be one of ${spaceFamilies.join(', ')}, got ${JSON.stringify(family)}`);
  }
  if (input.build !== undefined && typeof input.build !== 'string') throw invalid('build', `must be a string, got ${JSON.stringify(input.build)}`);
  if (input.fixed !== undefined && !isPlainObject(input.fixed)) throw invalid('fixed', 'must be an object of fields');
  const depths = input.depths;
  if (!Array.isArray(depths) || depths.length === 0) throw invalid('depths', 'must be a non-empty array of layer counts');
  depths.forEach((d, i) => {
    if (!Number.isInteger(d) || (d as number) < 1 || (d as number) > 4096) throw invalid(`depths[${i}]`, `must be an integer from 1 to 4096, got ${JSON.stringify(d)}`);
  });
  if (new Set(depths).size !== depths.length) throw invalid('depths', 'must not repeat a layer count');
  const globals = readChoices(input.globals, 'globals', false);
  const embeddingGlobals = readChoices(input.embeddingGlobals, 'embeddingGlobals', false);
  const layerChoices = readChoices(input.layerChoices, 'layerChoices', true) as Choices;
  const seen = new Set<string>();
  for (const [group, choices] of [['globals', globals], ['embeddingGlobals', embeddingGlobals], ['layerChoices', layerChoices]] as const) {
    for (const name of Object.keys(choices ?? {})) {
      if (seen.has(name)) throw invalid(`${group}.${name}`, 'is chosen twice (a field is either global, embedding-global or per layer)');
      seen.add(name);
    }
  }
  const definition: SpaceDefinition = { family: family as SpaceFamily, depths: depths as number[], layerChoices };
  if (input.build !== undefined) definition.build = input.build as string;
  if (input.fixed !== undefined) definition.fixed = input.fixed as Record<string, unknown>;
  if (globals !== undefined) definition.globals = globals;
  if (embeddingGlobals !== undefined) definition.embeddingGlobals = embeddingGlobals;
  return definition;
}

const range = (low: number, high: number, step = 1): number[] => Array.from({ length: Math.floor((high - low) / step) + 1 }, (_, i) => low + i * step);

export type BuiltinSpaceName = 'nas-bench-bert' | 'lts-gpt2' | 'lts-txl' | 'hf-decoder';
export const builtinSpaceNames: readonly BuiltinSpaceName[] = ['nas-bench-bert', 'lts-gpt2', 'lts-txl', 'hf-decoder'];

/**
 * A built-in space with the sampler's ranges (src/search/sample.ts). hf-decoder's layers may differ from one another
 * (per-layer heads, key/value heads and intermediate size, which HF configs accept as lists); the sampler draws
 * uniform ones, whose intermediate size is a multiple of 256 between ffnRatio times the hidden size.
 */
export function builtinSpace(name: string, decoder: Partial<DecoderRanges> = {}): SpaceDefinition {
  switch (name) {
    case 'nas-bench-bert':
      return {
        family: 'nas-bench-bert',
        globals: { hidden_size: [...FLEXIBERT_SPACE.hiddenSize] },
        depths: [...FLEXIBERT_SPACE.layerCount],
        layerChoices: {
          operation: Object.entries(FLEXIBERT_SPACE.operations).flatMap(([type, parameters]) => parameters.map((parameter) => ({ operation_type: type, operation_parameter: parameter }))),
          num_operation_heads: [...FLEXIBERT_SPACE.heads],
          feed_forward_dimension: [...FLEXIBERT_SPACE.feedForwardDimension],
          num_feed_forward: [...FLEXIBERT_SPACE.feedForwardCount],
        },
      };
    case 'lts-gpt2':
      return {
        family: 'gpt2-flex',
        fixed: { n_token: 50264, cutoffs: [19997, 39997, 199997, 50264], tie_weight: true, tie_projs: [false, true, true, true], adaptive: true, weight_init_std: 0.02, tgt_len: 192 },
        globals: { d_model: [...LTS_SPACE.dModel] },
        embeddingGlobals: { d_embed: [...LTS_SPACE.dEmbed], div_val: [...LTS_SPACE.divVal] },
        depths: range(LTS_SPACE.layers[0], LTS_SPACE.layers[1]),
        layerChoices: { n_head: [...LTS_SPACE.heads], d_inner: range(LTS_SPACE.dInner[0], LTS_SPACE.dInner[1]) },
      };
    case 'lts-txl':
      // The fields sampleLtsTxl writes (src/search/sample.ts): a candidate reads as a sampled one.
      return {
        family: 'transformer-xl',
        fixed: { model_type: 'mem_transformer', d_head: -1, n_token: 267736, cutoffs: [19997, 39997, 199997, 267736], tie_weight: true, tie_projs: [false, true, true, true], adaptive: true, attn_type: 0, mem_len: 192, weight_init_std: 0.02, tgt_len: 192 },
        globals: { d_model: [...LTS_TXL_SPACE.dModel] },
        embeddingGlobals: { d_embed: [...LTS_TXL_SPACE.dEmbed], div_val: [...LTS_TXL_SPACE.divVal] },
        depths: range(LTS_TXL_SPACE.layers[0], LTS_TXL_SPACE.layers[1]),
        layerChoices: { n_head: [...LTS_TXL_SPACE.heads], d_inner: range(LTS_TXL_SPACE.dInner[0], LTS_TXL_SPACE.dInner[1]) },
      };
    case 'hf-decoder': {
      const r = { ...DEFAULT_DECODER_RANGES, ...decoder };
      const hidden = range(r.hidden[0], r.hidden[1], r.hidden[2]);
      const lowest = Math.max(256, Math.round((Math.min(...hidden) * r.ffnRatio[0]) / 256) * 256);
      const highest = Math.max(256, Math.round((Math.max(...hidden) * r.ffnRatio[1]) / 256) * 256);
      return {
        family: 'hf',
        fixed: { model_type: 'llama', vocab_size: r.vocab, tie_word_embeddings: false, initializer_range: 0.02 },
        globals: { hidden_size: hidden },
        depths: range(r.layers[0], r.layers[1]),
        layerChoices: { num_attention_heads: [...r.heads], num_key_value_heads: [...r.kvHeads], intermediate_size: range(lowest, highest, 256) },
      };
    }
    default:
      throw new ZeroLMError('E_ARGUMENT', `unknown search space "${name}"; known: ${builtinSpaceNames.join(', ')}`, { field: 'space' });
  }
}

/** Where a family's input keeps its layer count and its per-layer fields. */
export function composeArchitecture(definition: SpaceDefinition, globals: Record<string, unknown>, layers: ReadonlyArray<Record<string, unknown>>, id?: string): Record<string, unknown> {
  const architecture: Record<string, unknown> = id === undefined ? {} : { id };
  Object.assign(architecture, definition.fixed, globals);
  if (definition.family === 'nas-bench-bert') {
    architecture.nas_config = { encoder_layers: layers.map((layer) => ({ ...layer })) };
    return architecture;
  }
  architecture[definition.family === 'hf' ? 'num_hidden_layers' : 'n_layer'] = layers.length;
  for (const field of Object.keys(layers[0] ?? {})) architecture[field] = layers.map((layer) => layer[field]);
  return architecture;
}

/** Sets a choice's value on a target: merged when it is an object, under the field's name otherwise. */
export function applyChoice(target: Record<string, unknown>, field: string, value: unknown): void {
  if (isPlainObject(value)) Object.assign(target, value);
  else target[field] = value;
}
