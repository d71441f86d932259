/**
 * Architecture builders: turn an input (benchmark entry, LTS or Hugging Face config, generic module list) into a
 * ModelPlan. Pure TypeScript: no native code, nothing from proxy or above.
 */
import { ZeroLMError } from '../errors';
import { describeValue, isRecord, type FamilyBuildOptions } from './fields';
import { buildGpt2Flex, GPT2_FLEX_BUILDS, GPT2_FLEX_DEFAULT_BUILD } from './gpt2-flex';
import { buildHfConfig, HF_BUILDS, HF_DEFAULT_BUILD } from './hf-config';
import { buildModules, MODULES_BUILDS, MODULES_DEFAULT_BUILD } from './modules';
import { buildNasBenchBert, NAS_BENCH_BERT_BUILDS, NAS_BENCH_BERT_DEFAULT_BUILD } from './nas-bench-bert';
import { buildTransformerXl, isTransformerXlModelType, TRANSFORMER_XL_BUILDS, TRANSFORMER_XL_DEFAULT_BUILD } from './transformer-xl';
import type { BuildOptions, FamilyName, ModelPlan } from './types';

export * from './types';
export { MAX_DIMENSION, MAX_LAYERS, type FamilyBuildOptions } from './fields';
export { BuildMemo, MAX_MEMO_ENTRIES } from './memo';
export { parseNasBenchBert, operationLabel, ELECTRA_SMALL, LPZERO_PORT, type NasBenchBertArchitecture, type EncoderLayerSpec, type Operation } from './nas-bench-bert';
export { parseGpt2Flex, cleanCutoffs, type Gpt2FlexArchitecture } from './gpt2-flex';
export { HF_MODEL_TYPES } from './hf-config';
export { parseTransformerXl, TRANSFORMER_XL_MODEL_TYPES, type TransformerXlArchitecture } from './transformer-xl';

export interface Family {
  /** Build names this family accepts in BuildOptions.build. */
  builds: string[];
  defaultBuild: string;
  /** How scored matrices are initialised when BuildOptions.init is not given (documentation). */
  defaultInit: string;
  build(input: unknown, options?: FamilyBuildOptions): ModelPlan;
}

export const families: Record<FamilyName, Family> = {
  'nas-bench-bert': {
    builds: [...NAS_BENCH_BERT_BUILDS],
    defaultBuild: NAS_BENCH_BERT_DEFAULT_BUILD,
    defaultInit: 'normal(std 0.02), ELECTRA initializer_range; the as-specified WMA matrix uniform(bound 0.1) as in FlexiBERT',
    build: buildNasBenchBert,
  },
  'gpt2-flex': {
    builds: [...GPT2_FLEX_BUILDS],
    defaultBuild: GPT2_FLEX_DEFAULT_BUILD,
    defaultInit: 'normal(std weight_init_std, default 0.02); attention output and ffn.down (c_proj) std weight_init_std/sqrt(2*n_layer)',
    build: buildGpt2Flex,
  },
  'transformer-xl': {
    builds: [...TRANSFORMER_XL_BUILDS],
    defaultBuild: TRANSFORMER_XL_DEFAULT_BUILD,
    defaultInit: 'normal(std weight_init_std, default 0.02) for every layer matrix, no residual scaling',
    build: buildTransformerXl,
  },
  hf: {
    builds: [...HF_BUILDS],
    defaultBuild: HF_DEFAULT_BUILD,
    defaultInit: 'normal(std initializer_range, default 0.02); gpt2 c_proj weights std initializer_range/sqrt(2*n_layer); t5 as T5PreTrainedModel (factor/sqrt(fan))',
    build: buildHfConfig,
  },
  modules: {
    builds: [...MODULES_BUILDS],
    defaultBuild: MODULES_DEFAULT_BUILD,
    defaultInit: "a matrix's own init, else normal(std 0.02)",
    build: buildModules,
  },
};

export const familyNames = Object.keys(families) as FamilyName[];

function present(input: Record<string, unknown>, path: string): boolean {
  let node: unknown = input;
  for (const key of path.split('.')) {
    if (!isRecord(node) || node[key] === undefined) return false;
    node = node[key];
  }
  return true;
}

/** The fields of a LiteTransformerSearch model_config.yaml, which gpt2-flex and transformer-xl share. */
const LTS_FIELDS = ['n_layer', 'd_model', 'n_head', 'd_inner', 'n_token'];
const TRANSFORMER_XL_MARK = 'model_type: "mem_transformer"';

/** The fields each family needs to recognise an input, and which of them the input lacks. */
function missingSignature(family: FamilyName, input: Record<string, unknown>): string[] {
  const lacking = (paths: string[]): string[] => paths.filter((path) => !present(input, path));
  switch (family) {
    case 'nas-bench-bert':
      return input.hparams !== undefined
        ? lacking(['hparams.model_hparam_overrides.hidden_size', 'hparams.model_hparam_overrides.nas_config.encoder_layers'])
        : lacking(['hidden_size', 'nas_config.encoder_layers']);
    case 'gpt2-flex':
      return [...lacking(LTS_FIELDS), ...(isTransformerXlModelType(input.model_type) ? [`no model_type ${JSON.stringify(input.model_type)}`] : [])];
    case 'transformer-xl':
      return [...lacking(LTS_FIELDS), ...(isTransformerXlModelType(input.model_type) ? [] : [TRANSFORMER_XL_MARK])];
    case 'hf':
      return input.model_type === undefined ? ['model_type'] : isTransformerXlModelType(input.model_type) ? [`a model_type other than ${JSON.stringify(input.model_type)}`] : [];
    case 'modules':
      return input.format === 'modules' ? [] : ['format: "modules"'];
  }
}

/**
 * The family an input belongs to. Exactly one family's signature must be complete: none gives E_FORMAT naming,
 * for each family, the fields it lacks; several give E_FORMAT naming them (pass `family` to choose).
 *
 * gpt2-flex and transformer-xl read the same LTS model_config.yaml fields, and archai writes the same model keys for
 * both (attn_type and mem_len included), so a config is a Transformer-XL only when it says so with
 * `model_type: "mem_transformer"` (archai's name for it); every other LTS config is gpt2-flex. Any other model_type
 * is a Hugging Face config.
 */
export function detectFamily(input: unknown): FamilyName {
  if (!isRecord(input)) {
    throw new ZeroLMError('E_FORMAT', `an architecture must be an object, got ${describeValue(input)}`);
  }
  // Fast path, no allocation: exactly one complete signature (the streaming case). Anything else takes the slow
  // path below, which names what is missing or ambiguous.
  const nasRoot = input.hparams !== undefined ? (isRecord(input.hparams) ? input.hparams.model_hparam_overrides : undefined) : input;
  const isNas = isRecord(nasRoot) && nasRoot.hidden_size !== undefined && isRecord(nasRoot.nas_config) && nasRoot.nas_config.encoder_layers !== undefined;
  const isLts = input.n_layer !== undefined && input.d_model !== undefined && input.n_head !== undefined && input.d_inner !== undefined && input.n_token !== undefined;
  const namesTransformerXl = input.model_type !== undefined && isTransformerXlModelType(input.model_type);
  const isGpt2Flex = isLts && !namesTransformerXl;
  const isTransformerXl = isLts && namesTransformerXl;
  const isHf = input.model_type !== undefined && !namesTransformerXl;
  const isModules = input.format === 'modules';
  if (+isNas + +isGpt2Flex + +isTransformerXl + +isHf + +isModules === 1) {
    return isNas ? 'nas-bench-bert' : isGpt2Flex ? 'gpt2-flex' : isTransformerXl ? 'transformer-xl' : isHf ? 'hf' : 'modules';
  }
  const missing = familyNames.map((family) => ({ family, fields: missingSignature(family, input) }));
  const matches = missing.filter((entry) => entry.fields.length === 0).map((entry) => entry.family);
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) {
    throw new ZeroLMError('E_FORMAT', `ambiguous architecture: it has the fields of ${matches.join(' and ')}; choose one with the family option`);
  }
  const details = missing.map((entry) => `${entry.family} needs ${entry.fields.join(', ')}`).join('; ');
  throw new ZeroLMError('E_FORMAT', `not a recognised architecture format: ${details}`);
}

/** Builds the plan of one architecture; the family is detected unless options.family names it. */
export function buildPlan(input: unknown, options: BuildOptions & { family?: FamilyName; id?: string } = {}): ModelPlan {
  if (!isRecord(options as unknown)) throw new ZeroLMError('E_ARGUMENT', `options must be an object, got ${describeValue(options)}`, { field: 'options' });
  let family: FamilyName;
  if (options.family === undefined) {
    family = detectFamily(input);
  } else {
    if (typeof options.family !== 'string') {
      throw new ZeroLMError('E_ARGUMENT', `family must be a string, got ${describeValue(options.family)}`, { field: 'family' });
    }
    if (!(familyNames as string[]).includes(options.family as string)) {
      throw new ZeroLMError('E_UNSUPPORTED', `family ${JSON.stringify(options.family)} is not supported; families: ${familyNames.join(', ')}`, { field: 'family' });
    }
    family = options.family;
  }
  return families[family].build(input, { build: options.build, init: options.init, id: options.id, memo: options.memo, ...(options.strictConfig === undefined ? {} : { strictConfig: options.strictConfig }) });
}
