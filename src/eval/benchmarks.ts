/**
 * Loaders for the benchmark data embedded in data/benchmarks/ (see data/benchmarks/README.md for sources,
 * licences and formats). Each benchmark is a list of architectures in the raw form a builder in src/arch/ takes,
 * each with its ground-truth label.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { ZeroLMError } from '../errors';

export type BenchmarkName = 'nas-bench-bert' | 'lts-gpt2-wt103' | 'lts-txl-wt103';

/** The LiteTransformerSearch benchmarks: one folder of model_config.yaml files with ppl_summary and params_summary. */
export type LtsBenchmarkName = 'lts-gpt2-wt103' | 'lts-txl-wt103';

export interface BenchmarkEntry {
  /** nas-bench-bert: the entry id as a string ("0".."499"); lts-*: "config_<i>_j<k>". */
  id: string;
  /**
   * The raw input a builder takes: the nas-bench-bert entry object as stored in BERT_benchmark.json (id, scores,
   * hparams), or the parsed LTS model_config.yaml.
   */
  architecture: unknown;
  /** Ground truth: mean GLUE dev score (higher is better) or WikiText-103 validation perplexity (lower is better). */
  label: number;
}

export interface Benchmark {
  name: BenchmarkName;
  /** 'glue' or 'valid_ppl'. */
  labelName: string;
  higherIsBetter: boolean;
  family: 'nas-bench-bert' | 'gpt2-flex' | 'transformer-xl';
  entries: BenchmarkEntry[];
  citation: string;
  licence: string;
}

/** One row of the LTS params_summary.yaml: parameter counts published with the benchmark. */
export interface LtsParamsSummary {
  AdaEmb: number;
  Attn: number;
  FFN: number;
  nonembedding: number;
  total: number;
}

const BENCHMARK_NAMES: readonly BenchmarkName[] = ['nas-bench-bert', 'lts-gpt2-wt103', 'lts-txl-wt103'];

const FAMILIES: Record<BenchmarkName, Benchmark['family']> = {
  'nas-bench-bert': 'nas-bench-bert',
  'lts-gpt2-wt103': 'gpt2-flex',
  'lts-txl-wt103': 'transformer-xl',
};

const CITATIONS: Record<BenchmarkName, { citation: string; licence: string }> = {
  'nas-bench-bert': {
    citation:
      'A. Serianni and J. Kalita, "Training-free Neural Architecture Search for RNNs and Transformers", ACL 2023 ' +
      '(data: github.com/aaronserianni/training-free-nas, commit 2d76e01b9586cad7340e8268dadba3056efd070b)',
    licence: 'CC BY 4.0',
  },
  'lts-gpt2-wt103': {
    citation:
      'M. Javaheripi et al., "LiteTransformerSearch: Training-free Neural Architecture Search for Efficient Language ' +
      'Models", NeurIPS 2022 (data: github.com/microsoft/archai, branch neurips-lts, commit ' +
      '47770415327900684ed95c0bc9bf7cd0d0047fad)',
    licence: 'MIT',
  },
  'lts-txl-wt103': {
    citation:
      'M. Javaheripi et al., "LiteTransformerSearch: Training-free Neural Architecture Search for Efficient Language ' +
      'Models", NeurIPS 2022 (data: github.com/microsoft/archai, branch neurips-lts, commit ' +
      '47770415327900684ed95c0bc9bf7cd0d0047fad, random_TransXL_wt103)',
    licence: 'MIT',
  },
};

export function listBenchmarks(): BenchmarkName[] {
  return [...BENCHMARK_NAMES];
}

export function isBenchmarkName(name: unknown): name is BenchmarkName {
  return typeof name === 'string' && (BENCHMARK_NAMES as readonly string[]).includes(name);
}

/** Throws E_ARGUMENT, listing the known names, unless `name` is a benchmark name. */
export function checkBenchmarkName(name: unknown): BenchmarkName {
  if (!isBenchmarkName(name)) {
    throw new ZeroLMError(
      'E_ARGUMENT',
      `unknown benchmark ${JSON.stringify(name)}; known benchmarks: ${BENCHMARK_NAMES.join(', ')}`,
      { field: 'benchmark' },
    );
  }
  return name;
}

// ---------------------------------------------------------------------------------------------------------------
// Files

let cachedDefaultDir: string | undefined;

/**
 * The data/benchmarks folder of the package. src/eval/ (ts-jest) and dist/eval/ (compiled) both sit two levels
 * below the package root; searching upwards also covers bundlers that flatten the layout.
 */
export function defaultBenchmarkDir(): string {
  if (cachedDefaultDir !== undefined) return cachedDefaultDir;
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'data', 'benchmarks');
    if (fs.existsSync(path.join(candidate, 'README.md')) && fs.existsSync(path.join(candidate, 'nas-bench-bert'))) {
      cachedDefaultDir = candidate;
      return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new ZeroLMError('E_IO', `cannot find the embedded benchmark data (data/benchmarks) above ${__dirname}`);
}

export function readTextFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ZeroLMError('E_IO', `cannot read ${file}: ${(error as Error).message}`, { file }, { cause: error });
  }
}

export function readYamlFile(file: string): unknown {
  const text = readTextFile(file);
  try {
    return parseYaml(text);
  } catch (error) {
    throw new ZeroLMError('E_PARSE', `${file}: invalid YAML: ${(error as Error).message}`, { file }, { cause: error });
  }
}

function readJsonFile(file: string): unknown {
  const text = readTextFile(file);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ZeroLMError('E_PARSE', `${file}: invalid JSON: ${(error as Error).message}`, { file }, { cause: error });
  }
}

/**
 * Deep copy of parsed JSON/YAML data (plain objects, arrays, primitives). Not structuredClone: that builds objects
 * in the host realm, which deep-equality checks in jest's sandbox then see as a different class.
 */
function cloneJsonLike(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneJsonLike);
  if (isRecord(value)) {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) copy[key] = cloneJsonLike(value[key]);
    return copy;
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finiteField(value: unknown, file: string, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ZeroLMError('E_FORMAT', `${file}: ${field} must be a finite number, got ${JSON.stringify(value)}`, { file, field });
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Loaders

/** Parsed entries by benchmark and folder: reading the 200 LTS YAML files takes a good fraction of a second. */
const entryCache = new Map<string, BenchmarkEntry[]>();

/**
 * Loads a benchmark by name from `dataDir` (default: the data embedded in the package). Files are read once per
 * process and folder; every call returns its own copy, so callers may modify what they get.
 */
export function loadBenchmark(name: BenchmarkName | string, dataDir?: string): Benchmark {
  const benchmarkName = checkBenchmarkName(name);
  const root = path.resolve(dataDir ?? defaultBenchmarkDir());
  const cacheKey = `${benchmarkName}\u0000${root}`;
  let cached = entryCache.get(cacheKey);
  if (cached === undefined) {
    cached = benchmarkName === 'nas-bench-bert' ? loadNasBenchBert(root) : loadLts(root, benchmarkName);
    entryCache.set(cacheKey, cached);
  }
  const entries = cached.map((entry) => ({ id: entry.id, architecture: cloneJsonLike(entry.architecture), label: entry.label }));
  return {
    name: benchmarkName,
    labelName: benchmarkName === 'nas-bench-bert' ? 'glue' : 'valid_ppl',
    higherIsBetter: benchmarkName === 'nas-bench-bert',
    family: FAMILIES[benchmarkName],
    entries,
    ...CITATIONS[benchmarkName],
  };
}

function loadNasBenchBert(root: string): BenchmarkEntry[] {
  const file = path.join(root, 'nas-bench-bert', 'BERT_benchmark.json');
  const data = readJsonFile(file);
  if (!Array.isArray(data)) throw new ZeroLMError('E_FORMAT', `${file}: expected a JSON array of entries`, { file });
  const seen = new Set<string>();
  return data.map((entry: unknown, index) => {
    if (!isRecord(entry) || !isRecord(entry.scores) || !isRecord(entry.hparams)) {
      throw new ZeroLMError('E_FORMAT', `${file}: entry ${index} lacks scores or hparams`, { file, index });
    }
    if (typeof entry.id !== 'number' && typeof entry.id !== 'string') {
      throw new ZeroLMError('E_FORMAT', `${file}: entry ${index} has no id`, { file, index, field: 'id' });
    }
    const id = String(entry.id);
    if (seen.has(id)) throw new ZeroLMError('E_FORMAT', `${file}: id ${id} appears twice`, { file, index, field: 'id' });
    seen.add(id);
    return { id, architecture: entry, label: finiteField(entry.scores.glue, file, `[${index}].scores.glue`) };
  });
}

const LTS_ID = /^config_(\d+)_j(\d+)$/;

/** Orders LTS ids by their numbers (config_2 before config_10), not as strings. */
export function compareLtsIds(a: string, b: string): number {
  const ma = LTS_ID.exec(a);
  const mb = LTS_ID.exec(b);
  if (!ma || !mb) return a < b ? -1 : a > b ? 1 : 0;
  return Number(ma[1]) - Number(mb[1]) || Number(ma[2]) - Number(mb[2]);
}

function loadLts(root: string, name: LtsBenchmarkName): BenchmarkEntry[] {
  const folder = path.join(root, name);
  const summaryFile = path.join(folder, 'ppl_summary.yaml');
  const summary = readYamlFile(summaryFile);
  if (!isRecord(summary)) throw new ZeroLMError('E_FORMAT', `${summaryFile}: expected a mapping from ids to results`, { file: summaryFile });
  const ids = Object.keys(summary).sort(compareLtsIds);
  return ids.map((id) => {
    const match = LTS_ID.exec(id);
    if (!match) throw new ZeroLMError('E_FORMAT', `${summaryFile}: id ${id} is not of the form config_<i>_j<k>`, { file: summaryFile, field: id });
    const result = summary[id];
    const label = finiteField(isRecord(result) ? result.valid_ppl : undefined, summaryFile, `${id}.valid_ppl`);
    const configFile = path.join(folder, `config_${match[1]}`, `j${match[2]}`, 'model_config.yaml');
    const architecture = readYamlFile(configFile);
    if (!isRecord(architecture)) throw new ZeroLMError('E_FORMAT', `${configFile}: expected a mapping`, { file: configFile });
    return { id, architecture, label };
  });
}

/** The parameter counts published with an LTS benchmark (params_summary.yaml), by architecture id. */
export function loadLtsParamsSummary(dataDir?: string, benchmark: LtsBenchmarkName = 'lts-gpt2-wt103'): Map<string, LtsParamsSummary> {
  if (benchmark !== 'lts-gpt2-wt103' && benchmark !== 'lts-txl-wt103') {
    throw new ZeroLMError('E_ARGUMENT', `${JSON.stringify(benchmark)} is not an LTS benchmark; LTS benchmarks: lts-gpt2-wt103, lts-txl-wt103`, { field: 'benchmark' });
  }
  const file = path.join(dataDir ?? defaultBenchmarkDir(), benchmark, 'params_summary.yaml');
  const data = readYamlFile(file);
  if (!isRecord(data)) throw new ZeroLMError('E_FORMAT', `${file}: expected a mapping from ids to counts`, { file });
  const result = new Map<string, LtsParamsSummary>();
  for (const id of Object.keys(data).sort(compareLtsIds)) {
    const row = data[id];
    if (!isRecord(row)) throw new ZeroLMError('E_FORMAT', `${file}: ${id} must be a mapping`, { file, field: id });
    result.set(id, {
      AdaEmb: finiteField(row.AdaEmb, file, `${id}.AdaEmb`),
      Attn: finiteField(row.Attn, file, `${id}.Attn`),
      FFN: finiteField(row.FFN, file, `${id}.FFN`),
      nonembedding: finiteField(row.nonembedding, file, `${id}.nonembedding`),
      total: finiteField(row.total, file, `${id}.total`),
    });
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Duplicates

/** JSON with object keys sorted, so that equal structures give equal strings. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * A string that is equal for two entries exactly when they describe the same architecture: for nas-bench-bert
 * the `hparams.model_hparam_overrides` (hidden size and per-layer configuration; ids, scores and training
 * bookkeeping left out), for the LTS families the whole model_config.
 */
export function architectureKey(family: Benchmark['family'], architecture: unknown): string {
  if (family === 'nas-bench-bert') {
    const hparams = isRecord(architecture) ? architecture.hparams : undefined;
    const overrides = isRecord(hparams) ? hparams.model_hparam_overrides : undefined;
    if (!isRecord(overrides)) {
      throw new ZeroLMError('E_FORMAT', 'nas-bench-bert entry lacks hparams.model_hparam_overrides', {
        field: 'hparams.model_hparam_overrides',
      });
    }
    return canonicalJson(overrides);
  }
  return canonicalJson(architecture);
}

/** Groups of ids (in entry order) whose architectures are identical; only groups of two or more. */
export function duplicateGroups(benchmark: Benchmark): string[][] {
  const groups = new Map<string, string[]>();
  for (const entry of benchmark.entries) {
    const key = architectureKey(benchmark.family, entry.architecture);
    const group = groups.get(key);
    if (group) group.push(entry.id);
    else groups.set(key, [entry.id]);
  }
  return [...groups.values()].filter((group) => group.length > 1);
}
