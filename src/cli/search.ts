/**
 * `zerolm search`: the best architectures of a space under budgets, as JSONL best first (src/search/ does the work).
 * Flags are read as text and checked here, so that a malformed one is a ZeroLMError (exit status 2), and a budget no
 * candidate meets exits 1 naming the smallest feasible value.
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { ZeroLMError } from '../errors';
import type { ScoreOptions } from '../proxy/score';
import { score } from '../proxy/score';
import { builtinSpaceNames, compileSpace, type CompiledSpace } from '../space';
import { candidateRows, search, searchAlgorithms, SEARCH_DEFAULTS, type Budgets, type Objective, type SearchAlgorithm, type SearchResult } from '../search';
import { objectiveNames } from '../search/evolution';
import { hfConfigOf } from '../search/emit';
import { kvCacheBytes, rooflineLatencyMs } from '../search/budget';
import { buildPlan } from '../arch';

interface SearchFlags {
  plot?: string;
  spaceFile?: string;
  pool?: string;
  maxParams?: string;
  maxNonEmbeddingParams?: string;
  maxFlops?: string;
  minParams?: string;
  maxKvBytes?: string;
  maxLatencyMs?: string;
  seqLen?: string;
  algorithm?: string;
  objectives?: string;
  top?: string;
  evaluations?: string;
  population?: string;
  searchSeed?: string;
  emitHf?: string;
  alpha?: string;
  calibration?: string;
  progress?: boolean;
  bytesPerValue?: string;
  peakTflops?: string;
  bandwidthGbs?: string;
}

/** The objectives' names on the command line (the library's names are accepted too). */
const OBJECTIVE_FLAGS: Readonly<Record<string, Objective>> = Object.freeze({
  score: 'score',
  params: 'params',
  'non-embedding-params': 'nonEmbeddingParams',
  flops: 'flops',
  'kv-bytes': 'kvBytes',
  latency: 'latencyMs',
});

function objectivesOf(text: string | undefined): Objective[] {
  return (text ?? 'score').split(',').map((name) => {
    const trimmed = name.trim();
    const objective = OBJECTIVE_FLAGS[trimmed] ?? (objectiveNames.includes(trimmed as Objective) ? (trimmed as Objective) : undefined);
    if (objective === undefined) throw new ZeroLMError('E_ARGUMENT', `--objectives: unknown objective "${trimmed}"; known: ${Object.keys(OBJECTIVE_FLAGS).join(', ')}`, { field: '--objectives' });
    return objective;
  });
}

function count(flag: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(value) || value < min) throw new ZeroLMError('E_ARGUMENT', `${flag} must be an integer >= ${min}, got "${text}"`, { field: flag });
  return value;
}

/** A budget: an integer, or a number with a k/M/G suffix (12M = 12,000,000). */
function budget(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^\s*([0-9]+(?:\.[0-9]+)?(?:e[0-9]+)?)\s*([kKMG]?)\s*$/.exec(text);
  const scale = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9 } as Record<string, number>;
  const value = match ? Number(match[1]) * scale[match[2]] : NaN;
  if (!Number.isFinite(value) || value < 0) throw new ZeroLMError('E_ARGUMENT', `${flag} must be a non-negative number (suffix k, M or G allowed), got "${text}"`, { field: flag });
  return value;
}

export function registerSearchCommand(program: Command, scoringFlags: (command: Command) => Command, scoreOptionsFrom: (flags: never) => ScoreOptions): void {
  scoringFlags(
    program
      .command('search')
      .description('the best architectures of a search space under parameter/FLOP budgets: exact where the score adds up over layers, evolution otherwise; JSONL best first')
      .argument('[space]', `built-in space: ${builtinSpaceNames.join(', ')} (or --space-file)`),
  )
    .option('--space-file <file>', 'a space described in JSON (schema: README, "Search"; src/space/definition.ts)')
    .option('--pool <source>', 'search a finite list instead of a space: an embedded benchmark, or a file of architectures (JSON, JSONL, YAML)')
    .option('--max-params <n>', 'at most this many parameters (k/M/G suffix allowed)')
    .option('--max-non-embedding-params <n>', 'at most this many non-embedding parameters')
    .option('--max-flops <n>', 'at most this many forward FLOPs of one sequence of --seq-len tokens')
    .option('--min-params <n>', 'at least this many parameters')
    .option('--max-kv-bytes <n>', 'at most this many KV-cache bytes for one sequence of --seq-len tokens (decoders)')
    .option('--max-latency-ms <f>', 'at most this roofline latency of one forward pass (needs --peak-tflops and --bandwidth-gbs)')
    .option('--seq-len <t>', 'sequence length of the FLOPs (default 1024)')
    .addOption(new Option('--algorithm <name>', 'exact (default where it applies), evolution, random').choices([...searchAlgorithms]))
    .option('--objectives <list>', `score, or two or more of ${Object.keys(OBJECTIVE_FLAGS).join(', ')} (comma-separated): the Pareto set, best first by the first; kv-bytes for decoders, latency with --peak-tflops and --bandwidth-gbs`)
    .option('--top <k>', 'how many architectures to print (one objective; exact: the best of the K best contexts)')
    .option('--evaluations <n>', `evolution/random: candidates to evaluate (default ${SEARCH_DEFAULTS.evaluations})`)
    .option('--population <p>', `evolution: population size (default ${SEARCH_DEFAULTS.population})`)
    .option('--search-seed <s>', 'evolution/random: seed of the search (--seed is the weights\')')
    .option('--emit-hf <dir>', 'write one config.json per chosen architecture under DIR/rank-N/')
    .option('--plot <file>', 'draw the architectures printed (with --objectives score,params: the Pareto front) as score against parameters (.svg or .png; needs the optional packages vega and vega-lite, and @resvg/resvg-js for .png)')
    .option('--alpha <alpha>', 'weight of the attention capacity (selects the weighted-sum rule unless --rule says otherwise)')
    .option('--calibration <file>', 'take alpha (and its measure/build/mode) from a calibration file')
    .option('--bytes-per-value <b>', 'bytes per weight and cached value for kvBytes and latencyMs (default 2: 16-bit)')
    .option('--peak-tflops <f>', 'with --bandwidth-gbs: report a roofline latencyMs per architecture')
    .option('--bandwidth-gbs <f>', 'memory bandwidth in GB/s for latencyMs')
    .option('--no-progress', 'never draw progress on stderr')
    .action(async (spaceName: string | undefined, flags: SearchFlags) => {
      process.exitCode = await runSearch(spaceName, flags, scoreOptionsFrom(flags as never));
    });

  scoringFlags(
    program
      .command('eval-search')
      .description('how good the pick under a parameter budget is, on a benchmark\'s labels: regret, true rank and top-5 hits of the proxy\'s pick against #params, NSC and random')
      .argument('<benchmark>', 'nas-bench-bert, lts-gpt2-wt103, lts-txl-wt103'),
  )
    .option('--json', 'print the report as one JSON object')
    .action(async (benchmark: string, flags: { json?: boolean }) => {
      const { evalSearch, formatSearchEval } = await import('../eval/search-eval');
      const report = await evalSearch(benchmark, scoreOptionsFrom(flags as never));
      process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : formatSearchEval(report));
    });
}

async function runSearch(spaceName: string | undefined, flags: SearchFlags, base: ScoreOptions): Promise<number> {
  const sources = [spaceName, flags.spaceFile, flags.pool].filter((s) => s !== undefined).length;
  if (sources !== 1) throw new ZeroLMError('E_ARGUMENT', `give one of a built-in space (${builtinSpaceNames.join(', ')}), --space-file FILE or --pool BENCHMARK|FILE`, { field: 'space' });
  const options: ScoreOptions = { ...base };
  if (flags.calibration) {
    const { readCalibration } = await import('../calibrate/file');
    const calibration = await readCalibration(flags.calibration);
    options.alpha = calibration.alpha;
    options.measure ??= calibration.measure as ScoreOptions['measure'];
    options.rule ??= calibration.rule;
    options.build ??= calibration.build as ScoreOptions['build'];
    options.perHead ??= calibration.perHead;
    options.mode ??= calibration.mode as ScoreOptions['mode'];
  }
  if (flags.alpha !== undefined) {
    const alpha = Number(flags.alpha);
    if (flags.alpha.trim() === '' || !Number.isFinite(alpha)) throw new ZeroLMError('E_ARGUMENT', `--alpha must be a finite number, got "${flags.alpha}"`, { field: '--alpha' });
    options.alpha = alpha;
  }
  const budgets: Budgets = {
    maxParams: budget('--max-params', flags.maxParams),
    maxNonEmbeddingParams: budget('--max-non-embedding-params', flags.maxNonEmbeddingParams),
    maxFlops: budget('--max-flops', flags.maxFlops),
    minParams: budget('--min-params', flags.minParams),
    maxKvBytes: budget('--max-kv-bytes', flags.maxKvBytes),
    maxLatencyMs: budget('--max-latency-ms', flags.maxLatencyMs),
  };
  const positive = (flag: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (text.trim() === '' || !(value > 0) || !Number.isFinite(value)) throw new ZeroLMError('E_ARGUMENT', `${flag} must be a positive number, got "${text}"`, { field: flag });
    return value;
  };
  const hardware = { bytesPerValue: positive('--bytes-per-value', flags.bytesPerValue) ?? 2, peakTflops: positive('--peak-tflops', flags.peakTflops), bandwidthGBs: positive('--bandwidth-gbs', flags.bandwidthGbs) };
  if ((hardware.peakTflops === undefined) !== (hardware.bandwidthGBs === undefined)) throw new ZeroLMError('E_ARGUMENT', 'latency needs both --peak-tflops and --bandwidth-gbs', { field: '--peak-tflops' });
  if (budgets.maxLatencyMs !== undefined && hardware.peakTflops === undefined) throw new ZeroLMError('E_ARGUMENT', '--max-latency-ms needs --peak-tflops and --bandwidth-gbs', { field: '--max-latency-ms' });
  const objectives = objectivesOf(flags.objectives);
  if (objectives.includes('latencyMs') && hardware.peakTflops === undefined) throw new ZeroLMError('E_ARGUMENT', '--objectives latency needs --peak-tflops and --bandwidth-gbs', { field: '--objectives' });
  if (new Set(objectives).size !== objectives.length || (objectives.length === 1 && objectives[0] !== 'score')) {
    throw new ZeroLMError('E_ARGUMENT', `--objectives must be score alone or two or more that do not repeat, got "${flags.objectives}"`, { field: '--objectives' });
  }
  const sequenceLength = count('--seq-len', flags.seqLen, 1) ?? 1024;
  let spaceInput: unknown = spaceName;
  if (flags.spaceFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.spaceFile, 'utf8');
    } catch (cause) {
      throw new ZeroLMError('E_IO', `${flags.spaceFile}: cannot read the space file (${(cause as Error).message})`, { file: flags.spaceFile });
    }
    try {
      spaceInput = JSON.parse(text);
    } catch (cause) {
      throw new ZeroLMError('E_PARSE', `${flags.spaceFile}: not JSON (${(cause as Error).message})`, { file: flags.spaceFile });
    }
  }
  if (flags.plot !== undefined) {
    // Checked before any work: a plot that cannot be drawn or written costs no search.
    const { checkPlotOutput } = await import('./preflight');
    await checkPlotOutput(flags.plot);
    await (await import('../eval/plot')).requirePlotPackages(flags.plot);
  }
  if (flags.pool !== undefined) return runPool(flags.pool, flags, options, budgets, sequenceLength, hardware);
  const progressShown = flags.progress !== false && Boolean(process.stderr.isTTY);
  if (progressShown) process.stderr.write('compiling the space...');
  const space = await compileSpace(spaceInput, { ...options, sequenceLength });
  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort();
  process.once('SIGINT', onInterrupt);
  let last: SearchResult | undefined;
  try {
    for await (const result of search(space, {
      budgets,
      objectives,
      algorithm: flags.algorithm as SearchAlgorithm | undefined,
      top: count('--top', flags.top, 1),
      evaluations: count('--evaluations', flags.evaluations, 1),
      population: count('--population', flags.population, 2),
      seed: count('--search-seed', flags.searchSeed, 0),
      hardware: { ...hardware, sequenceLength },
      signal: controller.signal,
      onProgress: progressShown
        ? (p) => process.stderr.write(`\r${p.algorithm}: ${p.evaluations !== undefined ? `${p.evaluations} evaluated` : `${p.contextsDone}/${p.contexts} contexts`}${p.best !== undefined && Number.isFinite(p.best) ? `, best ${p.best.toFixed(4)}` : ''}\u001b[K`)
        : undefined,
    })) {
      last = result;
    }
  } catch (cause) {
    if (progressShown) process.stderr.write('\r\u001b[K');
    if (cause instanceof ZeroLMError && cause.location?.field?.startsWith('budget')) {
      process.stderr.write(`zerolm search: ${cause.code}: ${cause.message}\n`);
      return 1;
    }
    throw cause;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
  if (progressShown) process.stderr.write('\r\u001b[K');
  if (last === undefined) return 1;
  const records = await writeRecords(space, last, budgets, options, sequenceLength, flags.emitHf, hardware);
  if (flags.plot !== undefined) await plotPicks(flags.plot, records, last.pareto ? 'Pareto front' : `best ${records.length}`, spaceName ?? flags.spaceFile ?? '');
  if (last.aborted) process.stderr.write('zerolm search: interrupted; the best found so far is written\n');
  return 0;
}

async function writeRecords(
  space: CompiledSpace,
  result: SearchResult,
  budgets: Budgets,
  options: ScoreOptions,
  sequenceLength: number,
  emitDir: string | undefined,
  hardware: { bytesPerValue: number; peakTflops?: number; bandwidthGBs?: number },
): Promise<Array<Record<string, unknown>>> {
  const rows = candidateRows(space, result.picks.map((p) => p.candidate));
  const records: Array<Record<string, unknown>> = [];
  const lines: string[] = [];
  for (let i = 0; i < result.picks.length; i++) {
    const pick = result.picks[i];
    const id = `${result.algorithm}-${i + 1}`;
    const architecture = space.architectureOf(rows, i);
    // The usual score record, from the object path: what `zerolm score` prints for this architecture.
    const scored = await score(architecture, { ...options, family: space.definition.family, build: (space.definition.build ?? options.build) as ScoreOptions['build'] });
    // Decoders keep a KV cache; an encoder (nas-bench-bert) does not.
    const decoder = space.definition.family !== 'nas-bench-bert';
    // The search's own KV bytes where it computed them (its KV table: the same sum); else from the plan.
    const kvBytes = !decoder ? 0 : pick.kvBytes ?? kvCacheBytes(buildPlan(architecture, { family: space.definition.family, build: (space.definition.build ?? options.build) as ScoreOptions['build'] }), sequenceLength, hardware.bytesPerValue);
    const costs: Record<string, number> = decoder ? { kvBytes } : {};
    if (hardware.peakTflops !== undefined && hardware.bandwidthGBs !== undefined) {
      costs.latencyMs = rooflineLatencyMs(pick.flops, pick.params * hardware.bytesPerValue + kvBytes, hardware.peakTflops, hardware.bandwidthGBs);
    }
    const record: Record<string, unknown> = {
      rank: i + 1,
      id,
      ...scored,
      params: pick.params,
      nonEmbeddingParams: pick.nonEmbeddingParams,
      flops: pick.flops,
      sequenceLength,
      ...costs,
      algorithm: result.algorithm,
      optimal: result.optimal && i === 0,
      ...(result.exactness !== undefined ? { exactness: result.exactness } : {}),
      ...(result.pareto ? { pareto: true } : {}),
      evaluations: result.evaluations,
      budgets: Object.fromEntries(Object.entries(budgets).filter(([, v]) => v !== undefined)),
      slack: pick.slack,
      architecture,
    };
    lines.push(JSON.stringify(record));
    records.push(record);
    if (emitDir !== undefined) {
      const dir = join(emitDir, `rank-${i + 1}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'config.json'), `${JSON.stringify(hfConfigOf(space.definition.family, architecture), null, 2)}\n`);
    }
  }
  process.stdout.write(lines.map((l) => `${l}\n`).join(''));
  return records;
}

/** The printed architectures as score against parameters, coloured by depth. */
async function plotPicks(file: string, records: ReadonlyArray<Record<string, unknown>>, what: string, space: string): Promise<void> {
  const { plotFormatOf, renderScatter } = await import('../eval/plot');
  const points = records.map((r) => ({ id: String(r.id), score: r.params as number, label: r.score as number, layers: (r.layers as unknown[]).length }));
  const image = await renderScatter(points, `zerolm search ${space}: ${what} (${records.length} architectures)`, 'zerolm score', plotFormatOf(file), { x: 'parameters', y: 'zerolm score' });
  try {
    writeFileSync(file, image);
  } catch (cause) {
    throw new ZeroLMError('E_IO', `--plot ${file}: cannot write (${(cause as Error).message})`, { file, field: '--plot' });
  }
  process.stderr.write(`zerolm search: plot written to ${file}\n`);
}

/** `zerolm search --pool`: rank a finite list (a benchmark's architectures, or a file's) within the budgets. */
async function runPool(
  pool: string,
  flags: SearchFlags,
  options: ScoreOptions,
  budgets: Budgets,
  sequenceLength: number,
  hardware: { bytesPerValue: number; peakTflops?: number; bandwidthGBs?: number },
): Promise<number> {
  const { searchPool } = await import('../search/pool');
  const { isBenchmarkName, loadBenchmark } = await import('../eval/benchmarks');
  let inputs: AsyncIterable<{ id?: string; architecture: unknown }> | Array<{ id?: string; architecture: unknown }>;
  const readErrors: string[] = [];
  if (isBenchmarkName(pool)) {
    const benchmark = loadBenchmark(pool);
    options = { ...options, family: options.family ?? benchmark.family };
    inputs = benchmark.entries.map((e) => ({ id: e.id, architecture: e.architecture }));
  } else {
    const { readArchitectures } = await import('../io/input');
    inputs = (async function* () {
      for await (const record of readArchitectures(pool)) {
        if (record.error) readErrors.push(`${record.source}${record.line !== undefined ? `:${record.line}` : ''}: ${record.error.code}: ${record.error.message}`);
        else yield { architecture: record.value };
      }
    })();
  }
  const result = await searchPool(inputs, { ...options, budgets, top: count('--top', flags.top, 1) ?? 10, sequenceLength, ...hardware });
  for (const message of readErrors) process.stderr.write(`zerolm search: ${message}\n`);
  for (const error of result.errors) process.stderr.write(`zerolm search: ${error.id !== undefined ? `id ${error.id}: ` : ''}${error.error.code}: ${error.error.message}\n`);
  if (result.picks.length === 0) {
    const { params, nonEmbeddingParams, flops } = result.smallest;
    process.stderr.write(`zerolm search: no architecture of the pool (${result.scored} scored) meets the budgets; the smallest has ${params} parameters (${nonEmbeddingParams} non-embedding) and ${flops} FLOPs at --seq-len ${sequenceLength}\n`);
    return 1;
  }
  const lines = result.picks.map((pick) => {
    const costs: Record<string, number> = pick.kvBytes !== undefined ? { kvBytes: pick.kvBytes } : {};
    if (hardware.peakTflops !== undefined && hardware.bandwidthGBs !== undefined) {
      costs.latencyMs = rooflineLatencyMs(pick.flops, pick.params * hardware.bytesPerValue + (pick.kvBytes ?? 0), hardware.peakTflops, hardware.bandwidthGBs);
    }
    const record = { rank: pick.rank, ...pick.score, flops: pick.flops, sequenceLength, ...costs, algorithm: 'pool', pool, feasible: result.feasible, budgets: Object.fromEntries(Object.entries(budgets).filter(([, v]) => v !== undefined)), slack: pick.slack, architecture: pick.architecture };
    return `${JSON.stringify(record)}\n`;
  });
  process.stdout.write(lines.join(''));
  return result.errors.length > 0 || readErrors.length > 0 ? 1 : 0;
}
