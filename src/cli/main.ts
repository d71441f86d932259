#!/usr/bin/env node
/** The zerolm command line: parse, call the library, print. */
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ZeroLMError } from '../errors';
import { GuardedByteStream, inputFormats, openSource, readOpenedBatches, type InputFormat, type InputRecord } from '../io/input';
import { parseInit } from '../weights/init';
import { seedPolicies } from '../weights/init';
import { getMeasure, measureNames, measureReads, type MeasureName } from '../capacity/measures';
import type { BuildName } from '../arch/types';
import { scoreModes, DEFAULTS, resolveScoreOptions, type ScoreOptions } from '../proxy/score';
import { combinationRules } from '../proxy/alpha';
import { DEFAULT_BATCH_SIZE, isScoreError, resolveBatchSize, scoreResolvedBatches, type ScoreErrorRecord } from '../proxy/many';
import { defaultScoreWorkers, scoreJsonLines } from '../proxy/parallel';
import { alphaStrategies, calibrationCriteria, type AlphaStrategy, type CalibrationCriterion } from '../calibrate';
import { LineWriter, ProgressLine } from './output';
import { checkPlotOutput, checkScoringOptions, checkStrategyFlags, checkWritableOutput } from './preflight';
import { CapacityCache } from '../proxy/cache';
import { ScoreSerializer } from '../proxy/serialize';
import { DEFAULT_DECODER_RANGES, sampleLineEncoder, spaceNames, type DecoderRanges } from '../search/sample';
import { DEFAULT_MEMORY_LIMIT_BYTES } from '../native';
import { registerSearchCommand } from './search';

const families = ['nas-bench-bert', 'gpt2-flex', 'transformer-xl', 'hf', 'modules'];

/**
 * Exit statuses, the one policy of every command (README, "Exit status"):
 * - ok: every input scored (or the command did what it was asked);
 * - someInputsFailed: the command ran, and some inputs could not be scored (each has its error record);
 * - commandFailed: the command could not run: a bad command line (unknown flag, bad value, missing required option),
 *   an option the library refuses, an unreadable or unusable file, a missing optional package, or no native addon
 *   for a mode that needs one.
 */
export const EXIT_STATUS = { ok: 0, someInputsFailed: 1, commandFailed: 2 } as const;

/** The status a command line ends with when `error` stopped it. */
function exitStatusOf(error: unknown): number {
  // Commander's own exits: --help and --version are 0; its usage errors (already printed) are a bad command line.
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_STATUS.ok : EXIT_STATUS.commandFailed;
  return EXIT_STATUS.commandFailed;
}

/** The examples each command's --help ends with (README's CLI examples are run by a test, these by hand). */
const HELP_EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  score: [
    'zerolm score --benchmark nas-bench-bert --measure log-det > scores.jsonl',
    'zerolm sample hf-decoder --count 1000 --layers 8 | zerolm score --mode analytic',
    'zerolm calibrate lts-gpt2-wt103 --out lts.json && zerolm score --calibration lts.json configs.jsonl',
  ],
  calibrate: [
    'zerolm calibrate lts-gpt2-wt103 --out lts.json',
    'zerolm calibrate nas-bench-bert --out bert.json --measure spectral --sample-size 100',
  ],
  eval: [
    'zerolm eval nas-bench-bert',
    'zerolm eval lts-gpt2-wt103 --measures all --mode analytic --json',
    'zerolm eval nas-bench-bert --plot plot.png      (needs: npm install vega vega-lite @resvg/resvg-js)',
  ],
  sample: [
    'zerolm sample nas-bench-bert --count 1000 --seed 3 > architectures.jsonl',
    'zerolm sample hf-decoder --count 100000 --layers 8-32 --hidden 1024-4096:256 --heads 16,32 --kv-heads 4,8 | zerolm score --mode analytic',
  ],
  info: ['zerolm info'],
};

function addExamples(program: Command): void {
  for (const command of program.commands) {
    const examples = HELP_EXAMPLES[command.name()];
    if (examples) command.addHelpText('after', `\nExamples:\n${examples.map((line) => `  $ ${line}`).join('\n')}\n`);
  }
  program.addHelpText(
    'after',
    `\nExit status: ${EXIT_STATUS.ok} every input scored; ${EXIT_STATUS.someInputsFailed} some inputs failed (each has an error record); ` +
      `${EXIT_STATUS.commandFailed} the command could not run (bad command line, unusable option or file, no addon for the mode).\n` +
      'Run `zerolm COMMAND --help` for a command\'s flags, defaults and examples.\n',
  );
}

/*
 * Modules only some commands use are loaded when first needed: the benchmark loaders (which bring a YAML parser),
 * evaluation and calibration files are about half of the start-up every `zerolm score` and `zerolm sample` would
 * otherwise pay.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const benchmarksModule = (): typeof import('../eval/benchmarks') => require('../eval/benchmarks');
const evaluateModule = (): typeof import('../eval/evaluate') => require('../eval/evaluate');
/* eslint-enable @typescript-eslint/no-require-imports */
const benchmarkNames = (): string => benchmarksModule().listBenchmarks().join(', ');

/** Gives an option or argument a description computed when help shows it, not when the program is built. */
function describedWhenShown<T extends Option | Argument>(item: T, describe: () => string): T {
  let replaced: string | undefined;
  Object.defineProperty(item, 'description', {
    get: () => replaced ?? describe(),
    set: (text: string) => {
      replaced = text;
    },
    enumerable: true,
    configurable: true,
  });
  return item;
}

/** Decimal numbers only: Number() would also take '' (as 0), '0x10', ' 7 ' and '1e3' for an integer. */
const DECIMAL_INTEGER = /^[+-]?\d+$/;
const DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function integer(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    const value = Number(text);
    if (!DECIMAL_INTEGER.test(text) || !Number.isInteger(value) || value < min || value > max) throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}], got "${text}"`);
    return value;
  };
}

function finiteNumber(name: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!DECIMAL_NUMBER.test(text) || !Number.isFinite(value)) throw new InvalidArgumentError(`${name} must be a finite number, got "${text}"`);
    return value;
  };
}

/** "LOW-HIGH" or "LOW-HIGH:STEP" (parts = 3 makes the step required), or one value V, meaning V-V. */
function range(name: string, parts: 2 | 3, integral = true) {
  return (text: string): never => {
    const single = /^[0-9.]+$/.test(text.trim()) ? Number(text.trim()) : undefined;
    if (single !== undefined && Number.isFinite(single) && single > 0 && (!integral || Number.isInteger(single))) {
      return (parts === 3 ? [single, single, 1] : [single, single]) as never;
    }
    const match = /^([0-9.]+)-([0-9.]+)(?::([0-9.]+))?$/.exec(text.trim());
    const numbers = match ? [match[1], match[2], match[3]].filter((v) => v !== undefined).map(Number) : [];
    const ok = match && numbers.length === parts && numbers.every((v) => Number.isFinite(v) && v > 0 && (!integral || Number.isInteger(v))) && numbers[0] <= numbers[1];
    if (!ok) throw new InvalidArgumentError(`${name} must look like ${parts === 3 ? 'LOW-HIGH:STEP' : 'LOW-HIGH'} or one value, with ${integral ? 'positive integers' : 'positive numbers'}, LOW <= HIGH`);
    return numbers as never;
  };
}

function integerList(name: string) {
  return (text: string): number[] => {
    const values = list(text).map(Number);
    if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1)) throw new InvalidArgumentError(`${name} must be a comma-separated list of positive integers`);
    return values;
  };
}

function list(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** A byte count: "4G", "512M", "1.5GiB", "65536" (K, M, G, T are powers of 1024). */
export function parseSize(name: string) {
  return (text: string): number => {
    const match = /^([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
    const bytes = match ? Math.floor(Number(match[1]) * SIZE_UNITS[match[2].toLowerCase()]) : NaN;
    if (!Number.isSafeInteger(bytes) || bytes < 1) throw new InvalidArgumentError(`${name} must be a size such as 512M, 4G or 1073741824, got "${text}"`);
    return bytes;
  };
}

/** 4294967296 -> "4G": sizes in help texts. */
function formatSize(bytes: number): string {
  for (const [unit, factor] of [['T', 1024 ** 4], ['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) if (bytes % factor === 0) return `${bytes / factor}${unit}`;
  return String(bytes);
}

interface CommonScoreFlags {
  rule?: string;
  family?: string;
  build?: string;
  measure?: string;
  eta?: number;
  seed?: number;
  seedPolicy?: string;
  perHead?: boolean;
  threads?: number;
  mode?: string;
  init?: string;
  cache?: string;
  strictConfig?: boolean;
  memoryLimit?: number;
}

function scoringFlags(command: Command): Command {
  return command
    .addOption(new Option('--family <family>', 'architecture family (default: detected from the input when unambiguous)').choices(families))
    .option('--build <build>', 'family build: nas-bench-bert as-trained (default), as-specified or lpzero; hf default or active-experts (MoE: score every expert, or the top-k one token uses); other families: default')
    .option('--measure <measure>', `capacity measure: ${measureNames.join(', ')} (default: ${DEFAULTS.measure})`)
    .option('--eta <fraction>', 'energy fraction for pca-k, in (0, 1] (default: 0.99)', finiteNumber('--eta'))
    .option('--seed <n>', `weight seed, an unsigned 32-bit integer (default: ${DEFAULTS.seed})`, integer('--seed', 0, 0xffffffff))
    .addOption(new Option('--seed-policy <policy>', `shape: common random numbers per shape; position: independent per matrix (default: ${DEFAULTS.seedPolicy})`).choices([...seedPolicies]))
    .option('--per-head', 'score each attention head slice as its own matrix')
    .addOption(new Option('--rule <rule>', `how attention and FFN capacities combine: geometric, sqrt(S_attn*S_ffn) (default without --alpha), or weighted-sum, ZeroLM's alpha*S_attn + (1-alpha)*S_ffn (default with --alpha)`).choices([...combinationRules]))
    .addOption(
      new Option(
        '--mode <mode>',
        `exact: seeded weights; bidiagonal: Gaussian spectra of the same law, drawn without the weights (normal inits); analytic: Marchenko-Pastur expectations, no addon needed (default: ${DEFAULTS.mode})`,
      ).choices([...scoreModes]),
    )
    .option('--init <scheme>', "override every matrix's init: normal:STD, uniform:BOUND, xavier-normal, xavier-uniform, kaiming-normal (default: the family's)")
    .option('--threads <n>', 'engine threads (default: all cores)', integer('--threads', 1, 1024))
    .option('--memory-limit <size>', `refuse work that would allocate more than this at once, e.g. 512M, 16G (default: ${formatSize(DEFAULT_MEMORY_LIMIT_BYTES)})`, parseSize('--memory-limit'))
    .option('--cache <file>', 'persist per-matrix capacities in this file (versioned, checksummed; rebuilt if corrupt)')
    .option('--strict-config', 'refuse a Hugging Face config whose architecture-changing keys the builder would ignore (default: warn)');
}

function scoreOptionsFrom(flags: CommonScoreFlags): ScoreOptions {
  return {
    family: flags.family as ScoreOptions['family'],
    // Checked by the library (an unknown name is one E_ARGUMENT or E_UNSUPPORTED listing the known ones).
    build: flags.build as BuildName | undefined,
    measure: flags.measure as MeasureName | undefined,
    rule: flags.rule as ScoreOptions['rule'],
    eta: flags.eta,
    seed: flags.seed,
    seedPolicy: flags.seedPolicy as ScoreOptions['seedPolicy'],
    perHead: flags.perHead,
    threads: flags.threads,
    mode: flags.mode as ScoreOptions['mode'],
    init: flags.init === undefined ? undefined : parseInit(flags.init),
    ...(flags.strictConfig ? { strictConfig: true } : {}),
    memoryLimitBytes: flags.memoryLimit,
  };
}

/** One source of `zerolm score`'s inputs: an embedded benchmark's records, or a file (or stdin) to read. */
type ScoreSource = { records: InputRecord[]; file?: undefined } | { file: string; records?: undefined };

function sourcesOf(files: string[], benchmark: string | undefined): ScoreSource[] {
  const sources: ScoreSource[] = [];
  if (benchmark) {
    const loaded = benchmarksModule().loadBenchmark(benchmark);
    sources.push({ records: loaded.entries.map((entry, index) => ({ source: loaded.name, index, value: { ...(entry.architecture as object), id: entry.id } })) });
  }
  for (const file of files) sources.push({ file });
  return sources;
}

function reportError(record: ScoreErrorRecord): void {
  const where = [record.source, record.line].filter((v) => v !== undefined).join(':');
  // Reader errors already start with their location; say it once, first.
  const message = where && record.error.message.startsWith(`${where}: `) ? record.error.message.slice(where.length + 2) : record.error.message;
  process.stderr.write(`zerolm score: ${where ? `${where}: ` : ''}${record.id !== undefined ? `id ${record.id}: ` : ''}${record.error.code}: ${message}\n`);
}

/** A missing addon fails every input alike: it stops the run as one error (exit 2), not one line per input. */
function throwIfAddonMissing(errors: readonly ScoreErrorRecord[]): void {
  const missing = errors.find((record) => record.error.code === 'E_NATIVE_MISSING');
  if (missing) throw new ZeroLMError('E_NATIVE_MISSING', missing.error.message);
}

/**
 * Run with the capacity cache of --cache loaded before and saved after; a bad cache file is reported, then rebuilt. A
 * path that is not a cache (an input, a device, a folder, a read-only file) is refused before any work.
 */
async function withCacheFile<T>(flags: CommonScoreFlags, run: (cache: CapacityCache | undefined) => Promise<T>): Promise<T> {
  if (!flags.cache) return run(undefined);
  const { loadCacheFile, saveCacheFile } = await import('../proxy/cache-file');
  const { cache, problem } = await loadCacheFile(flags.cache);
  if (problem) process.stderr.write(`zerolm: warning: ${problem.message}\n`);
  const result = await run(cache);
  const { merged } = await saveCacheFile(flags.cache, cache);
  if (merged > 0) process.stderr.write(`zerolm: ${flags.cache}: kept ${merged} entries another run saved meanwhile\n`);
  return result;
}

async function runScore(files: string[], flags: CommonScoreFlags & { alpha?: number; calibration?: string; strictCalibration?: boolean; format?: InputFormat; benchmark?: string; batchSize?: number; workers?: number; progress?: boolean }, cache?: CapacityCache): Promise<number> {
  const options: ScoreOptions = { ...scoreOptionsFrom(flags), cache };
  if (flags.calibration) {
    const { readCalibration } = await import('../calibrate/file');
    const calibration = await readCalibration(flags.calibration);
    options.alpha = calibration.alpha;
    options.calibration = { file: flags.calibration, space: calibration.space };
    // A calibration is only meaningful for the configuration it was made with: take it, and warn when a flag
    // overrides it.
    for (const [flag, mine, theirs] of [
      ['--measure', options.measure, calibration.measure],
      ['--build', options.build, calibration.build],
      ['--mode', options.mode, calibration.mode],
    ] as const) {
      if (mine !== undefined && mine !== theirs) process.stderr.write(`zerolm score: warning: ${flag} ${mine} overrides the calibration's ${theirs}; its alpha was chosen for ${theirs}\n`);
    }
    options.measure ??= calibration.measure as MeasureName;
    options.rule ??= calibration.rule;
    if (options.build === undefined) options.familyBuilds = { [calibration.family]: calibration.build as BuildName };
    options.perHead ??= calibration.perHead;
    options.mode ??= calibration.mode as ScoreOptions['mode'];
    options.seedPolicy ??= calibration.seedPolicy as ScoreOptions['seedPolicy'];
  }
  if (flags.alpha !== undefined) options.alpha = flags.alpha;
  if (files.length === 0 && !flags.benchmark) files = ['-'];
  // Checked once, up front: a bad option is one error, not one per architecture.
  const resolved = resolveScoreOptions(options);
  const batchSize = resolveBatchSize(flags.batchSize);
  const out = new LineWriter();
  const progress = new ProgressLine('scoring', flags.progress !== false && Boolean(process.stderr.isTTY));
  const serializer = new ScoreSerializer();
  let scored = 0;
  let failed = 0;
  let calibrationWarned = false;
  let before = 0; // inputs of the sources already read
  const warned = new Set<string>();
  const warn = (warnings: readonly string[] | undefined): void => {
    if (warnings === undefined) return;
    for (const warning of warnings) {
      if (warned.has(warning)) continue;
      warned.add(warning);
      process.stderr.write(`zerolm score: warning: ${warning}\n`);
    }
  };
  const report = (errors: readonly ScoreErrorRecord[], count: number): void => {
    throwIfAddonMissing(errors);
    for (const error of errors) reportError(error);
    failed += errors.length;
    scored += count - errors.length;
  };
  for (const source of sourcesOf(files, flags.benchmark)) {
    let batches: AsyncIterable<InputRecord[]> | Iterable<InputRecord[]>;
    if (source.records) batches = [source.records];
    else {
      const opened = await openSource(source.file, { format: flags.format });
      // A calibration's match is checked on this thread, record by record.
      const workers = options.calibration ? 0 : flags.workers ?? defaultScoreWorkers(opened.error ? undefined : opened.size);
      if (!opened.error && opened.format === 'jsonl' && workers > 0) {
        // JSONL goes to worker threads: this thread only cuts lines and writes what comes back.
        let done = 0;
        const bytes = new GuardedByteStream(opened.stream, opened.source);
        // A count the user gave is theirs; the default one is scoreJsonLines' to start when it pays.
        for await (const scores of scoreJsonLines(bytes, opened.source, { ...options, cache: resolved.cache, batchSize, workers: flags.workers, sizeHint: opened.size, onProgress: ({ done: count }) => progress.update(before + count) })) {
          report(scores.errors, scores.count);
          warn(scores.warnings);
          done += scores.count;
          if (out.pushBytes(scores.jsonl)) await out.flush();
        }
        if (bytes.failure) {
          // The source broke midway: what was read is scored above; one record says where reading stopped.
          const record: ScoreErrorRecord = { source: opened.source, index: done, error: bytes.failure.toJSON() };
          report([record], 1);
          done++;
          if (out.pushEncoded(serializer, record)) await out.flush();
        }
        before += done;
        continue;
      }
      batches = readOpenedBatches(opened);
    }
    let done = 0;
    for await (const records of scoreResolvedBatches(batches, resolved, batchSize, ({ done: count }) => progress.update(before + count))) {
      const errors: ScoreErrorRecord[] = [];
      for (let i = 0; i < records.length; i++) {
        const record = records[i];
        if (isScoreError(record)) {
          throwIfAddonMissing([record]);
          errors.push(record);
        } else {
          warn(record.warnings);
          if (record.calibration?.matches === false && !calibrationWarned) {
            calibrationWarned = true;
            const where = `${record.source ?? ''}${record.line !== undefined ? `:${record.line}` : ''}${record.id !== undefined ? ` (id ${record.id})` : ''}`;
            const message = `${where}: outside the space ${record.calibration.file} was fitted on: ${record.calibration.why}`;
            if (flags.strictCalibration) {
              await out.flush();
              throw new ZeroLMError('E_ARGUMENT', `${message}; its alpha does not apply (--strict-calibration)`, { field: 'calibration' });
            }
            process.stderr.write(`zerolm score: warning: ${message}; its alpha may not apply here (records say "matches": false; --strict-calibration refuses)\n`);
          }
        }
        if (out.pushEncoded(serializer, record)) await out.flush();
      }
      report(errors, records.length);
      done += records.length;
    }
    before += done;
  }
  await out.flush();
  progress.end();
  if (failed > 0) process.stderr.write(`zerolm score: ${scored} scored, ${failed} failed\n`);
  return failed > 0 ? EXIT_STATUS.someInputsFailed : EXIT_STATUS.ok;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('zerolm')
    .description('Rank Transformer architectures without training and without data (ZeroLM spectral capacity proxies).')
    .version(require('../../package.json').version as string)
    .showHelpAfterError()
    // Usage errors throw (main() turns them into EXIT_STATUS.commandFailed) instead of exiting with commander's 1;
    // set before the commands are added, which inherit it.
    .exitOverride();

  scoringFlags(
    program
      .command('score')
      .description('score architectures from files (JSON, JSONL, YAML) or stdin; one JSON line per architecture on stdout')
      .argument('[files...]', 'input files; "-" or none for stdin'),
  )
    .option('--alpha <alpha>', `weight of the attention capacity (default: ${DEFAULTS.alpha}); giving it selects ZeroLM's weighted sum unless --rule says otherwise`, finiteNumber('--alpha'))
    .option('--calibration <file>', 'take alpha (and its measure/build) from a file written by `zerolm calibrate`; inputs outside the space it was fitted on are marked and warned about once')
    .option('--strict-calibration', 'with --calibration: stop with exit status 2 at the first input outside the calibration\'s space')
    .addOption(new Option('--format <format>', 'input format (default: by extension, else sniffed)').choices([...inputFormats]))
    .addOption(describedWhenShown(new Option('--benchmark <name>'), () => `score an embedded benchmark: ${benchmarkNames()}`))
    .option('--batch-size <n>', `architectures per engine call (default: ${DEFAULT_BATCH_SIZE})`, integer('--batch-size', 1, 1 << 20))
    .option('--workers <n>', `worker threads for JSONL input; 0 scores on the main thread (default here: ${defaultScoreWorkers(Infinity)}; on a pipe they start only when scoring, not the producer, is the bottleneck)`, integer('--workers', 0, 64))
    .option('--no-progress', 'never draw a progress bar')
    .option('--weights <path>', 'score one Hugging Face config on real weights: a .safetensors file, or a folder with model.safetensors or model.safetensors.index.json and its shards')
    .option('--per-matrix', 'with --weights: add every matrix\'s capacity to the record (matrices)')
    .option('--prune <file>', 'with --weights: JSON {"layers":[...],"heads":{"LAYER":[...]},"channels":{"LAYER":[...]}} of parts to drop')
    .action(async (files: string[], flags) => {
      if (flags.weights !== undefined || flags.perMatrix || flags.prune !== undefined) {
        const { runScoreWeights } = await import('./weights');
        process.exitCode = await runScoreWeights(files, { ...flags, options: scoreOptionsFrom(flags) });
        return;
      }
      process.exitCode = await withCacheFile(flags, (cache) => runScore(files, flags, cache));
    });

  scoringFlags(
    program
      .command('calibrate')
      .description('choose alpha on labelled architectures (an embedded benchmark, or your own with --labels) and save it with the space it was fitted on')
      .addArgument(describedWhenShown(new Argument('[benchmark]'), () => `embedded benchmark: ${benchmarkNames()} (or --labels FILE)`)),
  )
    .requiredOption('--out <file>', 'where to write the calibration JSON')
    .option('--labels <file>', 'your own labelled architectures: JSONL of {architecture, label, higherIsBetter?, id?}, or CSV with architecture (a config file path) and label columns')
    .option('--higher-is-better', 'with --labels: a higher label is a better model (accuracy)')
    .option('--lower-is-better', 'with --labels: a lower label is a better model (perplexity, loss)')
    .addOption(new Option('--strategy <strategy>', 'alpha strategy').choices([...alphaStrategies]).default('sampling'))
    .option('--alpha <alpha>', 'alpha for --strategy fixed', finiteNumber('--alpha'))
    .addOption(new Option('--criterion <tau>', 'what calibration maximises').choices([...calibrationCriteria]).default('tau-a'))
    .addOption(
      describedWhenShown(new Option('--sample-size <k>').argParser(integer('--sample-size', 2)), () => `labelled architectures to calibrate on (default: ${evaluateModule().DEFAULT_SAMPLE_SIZE} of a benchmark, all of a labels file)`),
    )
    .option('--sample-seed <n>', 'seed of the labelled sample', integer('--sample-seed', 0, 0xffffffff), 0)
    .action(async (benchmark: string | undefined, flags) => {
      const { calibrateLabels, writeCalibration } = await import('../calibrate/file');
      const { calibrateBenchmark } = await import('../eval/calibrate-benchmark');
      if ((benchmark === undefined) === (flags.labels === undefined)) throw new ZeroLMError('E_ARGUMENT', 'give either a benchmark or --labels FILE (not both)');
      if (flags.higherIsBetter && flags.lowerIsBetter) throw new ZeroLMError('E_ARGUMENT', '--higher-is-better and --lower-is-better contradict each other');
      if (benchmark !== undefined && (flags.higherIsBetter || flags.lowerIsBetter)) throw new ZeroLMError('E_ARGUMENT', '--higher-is-better/--lower-is-better apply to --labels only (a benchmark knows its direction)');
      checkStrategyFlags(flags);
      checkScoringOptions(scoreOptionsFrom(flags));
      await checkWritableOutput(flags.out, '--out');
      const common = {
        strategy: flags.strategy as AlphaStrategy,
        criterion: flags.criterion as CalibrationCriterion,
        alpha: flags.alpha,
        sampleSeed: flags.sampleSeed,
      };
      const calibration = await withCacheFile(flags, (cache) =>
        benchmark !== undefined
          ? calibrateBenchmark(benchmark, { ...scoreOptionsFrom(flags), cache, ...common, sampleSize: flags.sampleSize ?? evaluateModule().DEFAULT_SAMPLE_SIZE })
          : calibrateLabels(flags.labels, {
              ...scoreOptionsFrom(flags),
              cache,
              ...common,
              sampleSize: flags.sampleSize ?? Number.MAX_SAFE_INTEGER,
              higherIsBetter: flags.higherIsBetter ? true : flags.lowerIsBetter ? false : undefined,
            }),
      );
      await writeCalibration(flags.out, calibration);
      process.stdout.write(`${JSON.stringify(calibration)}\n`);
    });

  scoringFlags(
    program
      .command('eval')
      .description('calibrate on random samples and report held-out rank correlation against baselines and peer proxies')
      .addArgument(describedWhenShown(new Argument('[benchmark]'), () => `embedded benchmark: ${benchmarkNames()} (not with --leave-one-out or --transfer, which use them all)`)),
  )
    .option('--builds <list>', "comma-separated builds to evaluate (default: --build, else the family's default)", list)
    .option('--measures <list>', `comma-separated measures, or "all" (default: --measure, else ${DEFAULTS.measure})`, list)
    .addOption(new Option('--strategy <strategy>', 'alpha strategy').choices([...alphaStrategies]).default('sampling'))
    .option('--alpha <alpha>', 'alpha for --strategy fixed', finiteNumber('--alpha'))
    .addOption(new Option('--criterion <tau>', 'what calibration maximises').choices([...calibrationCriteria]).default('tau-a'))
    .addOption(
      describedWhenShown(
        new Option('--sample-size <k>').argParser(integerList('--sample-size')),
        () => `labelled architectures per calibration sample (default: ${evaluateModule().DEFAULT_SAMPLE_SIZE}); a list (10,20,50,100) prints a learning curve`,
      ),
    )
    .addOption(describedWhenShown(new Option('--splits <r>').argParser(integer('--splits', 1, 100000)), () => `random calibration/held-out splits (default: ${evaluateModule().DEFAULT_SPLITS})`))
    .option('--split-seed <n>', 'seed of the splits', integer('--split-seed', 0, 0xffffffff), 0)
    .option('--no-baselines', 'skip #params, FLOPs and peer proxies')
    .option('--json', 'print one JSON object per evaluated configuration instead of tables')
    .option('--plot <file>', 'draw score against ground truth (.svg or .png; needs the optional packages vega and vega-lite, and @resvg/resvg-js for .png)')
    .option('--leave-one-out', 'how the label-free default was chosen: each shipped benchmark left out in turn, the rule chosen on the others, reported on it')
    .option('--transfer', 'alpha calibrated on one shipped benchmark, applied to each other one, beside the label-free default and #params')
    .action(async (benchmark: string | undefined, flags) => {
      if (flags.leaveOneOut || flags.transfer) {
        if (benchmark !== undefined) throw new ZeroLMError('E_ARGUMENT', `--${flags.leaveOneOut ? 'leave-one-out' : 'transfer'} uses every shipped benchmark; give no benchmark`);
        if (flags.leaveOneOut) {
          const { leaveOneBenchmarkOut, formatLeaveOneOut } = await import('../eval/leave-one-out');
          const folds = await leaveOneBenchmarkOut({ ...scoreOptionsFrom(flags) });
          process.stdout.write(flags.json ? `${JSON.stringify(folds)}\n` : formatLeaveOneOut(folds));
        }
        if (flags.transfer) {
          const { transferTable, formatTransferTable } = await import('../eval/transfer');
          const rows = await transferTable({ ...scoreOptionsFrom(flags) });
          process.stdout.write(flags.json ? `${JSON.stringify(rows)}\n` : formatTransferTable(rows));
        }
        return;
      }
      if (benchmark === undefined) throw new ZeroLMError('E_ARGUMENT', `eval needs a benchmark (${benchmarkNames()}), or --leave-one-out or --transfer`);
      if (flags.sampleSize !== undefined && flags.sampleSize.length > 1) {
        const { learningCurve, formatLearningCurve } = await import('../eval/transfer');
        const points = await learningCurve(benchmark, flags.sampleSize, { ...scoreOptionsFrom(flags), strategy: flags.strategy as AlphaStrategy, criterion: flags.criterion as CalibrationCriterion, splits: flags.splits, splitSeed: flags.splitSeed });
        process.stdout.write(flags.json ? `${JSON.stringify(points)}\n` : formatLearningCurve(benchmark, flags.measure ?? DEFAULTS.measure, points));
        return;
      }
      const measures = flags.measures?.includes('all') ? [...measureNames] : flags.measures ?? (flags.measure ? [flags.measure] : undefined);
      const builds = flags.builds ?? (flags.build ? [flags.build] : undefined);
      checkStrategyFlags(flags);
      checkScoringOptions(scoreOptionsFrom(flags), builds);
      if (flags.plot) await checkPlotOutput(flags.plot);
      const { evaluate, DEFAULT_SAMPLE_SIZE, DEFAULT_SPLITS } = evaluateModule();
      const { formatEvalTable } = await import('../eval/report');
      // Before any work: the plotting packages are optional.
      if (flags.plot) await (await import('../eval/plot')).requirePlotPackages(flags.plot);
      // One cache for the evaluation and the plot, so that the plot reuses the capacities the evaluation computed.
      await withCacheFile(flags, async (fileCache) => {
        const cache = fileCache ?? new CapacityCache();
        const reports = await evaluate(benchmark, {
          ...scoreOptionsFrom(flags),
          cache,
          builds,
          measures,
          strategy: flags.strategy as AlphaStrategy,
          criterion: flags.criterion as CalibrationCriterion,
          alpha: flags.alpha,
          sampleSize: flags.sampleSize?.[0] ?? DEFAULT_SAMPLE_SIZE,
          splits: flags.splits ?? DEFAULT_SPLITS,
          splitSeed: flags.splitSeed,
          baselines: flags.baselines,
          onProgress: ({ message }) => {
            if (process.stderr.isTTY) process.stderr.write(`\r${message}\u001b[K`);
          },
        });
        if (process.stderr.isTTY) process.stderr.write('\r\u001b[K');
        if (flags.json) for (const report of reports) process.stdout.write(`${JSON.stringify(report)}\n`);
        else process.stdout.write(formatEvalTable(reports));
        if (flags.plot) {
          const { plotBenchmark } = await import('../eval/plot');
          // The plot shows the first report's measure; eta goes with it only if that measure reads it (pca-k).
          const plotted = (reports[0]?.measure ?? measures?.[0]) as MeasureName | undefined;
          const eta = measureReads(getMeasure(plotted ?? DEFAULTS.measure), 'eta') ? flags.eta : undefined;
          await plotBenchmark(benchmark, flags.plot, { ...scoreOptionsFrom(flags), cache, build: builds?.[0], measure: plotted, eta, alpha: reports[0]?.alpha.mean });
          process.stderr.write(`zerolm eval: plot written to ${flags.plot}\n`);
        }
      });
    });

  program
    .command('sample')
    .description('stream random valid architectures of a search space as JSONL (pipe into `zerolm score`)')
    .argument('<space>', `search space: ${spaceNames.join(', ')}`)
    .requiredOption('--count <n>', 'how many', integer('--count', 0))
    .option('--seed <n>', 'sampling seed', integer('--seed', 0, 0xffffffff), 0)
    .option('--layers <range>', `hf-decoder: layer range LOW-HIGH, or one count (default: ${DEFAULT_DECODER_RANGES.layers.join('-')})`, range('--layers', 2))
    .option('--hidden <range>', `hf-decoder: hidden range LOW-HIGH:STEP, or one size (default: ${DEFAULT_DECODER_RANGES.hidden[0]}-${DEFAULT_DECODER_RANGES.hidden[1]}:${DEFAULT_DECODER_RANGES.hidden[2]})`, range('--hidden', 3))
    .option('--heads <list>', `hf-decoder: attention head choices (default: ${DEFAULT_DECODER_RANGES.heads.join(',')})`, integerList('--heads'))
    .option('--kv-heads <list>', `hf-decoder: key/value head choices (default: ${DEFAULT_DECODER_RANGES.kvHeads.join(',')})`, integerList('--kv-heads'))
    .option('--ffn-ratio <range>', `hf-decoder: intermediate_size / hidden range LOW-HIGH, or one ratio (default: ${DEFAULT_DECODER_RANGES.ffnRatio.join('-')})`, range('--ffn-ratio', 2, false))
    .option('--vocab <n>', `hf-decoder: vocabulary size (default: ${DEFAULT_DECODER_RANGES.vocab})`, integer('--vocab', 1))
    .action(async (space: string, flags) => {
      const decoder: Partial<DecoderRanges> = {};
      if (flags.layers) decoder.layers = flags.layers;
      if (flags.hidden) decoder.hidden = flags.hidden;
      if (flags.heads) decoder.heads = flags.heads;
      if (flags.kvHeads) decoder.kvHeads = flags.kvHeads;
      if (flags.ffnRatio) decoder.ffnRatio = flags.ffnRatio;
      if (flags.vocab) decoder.vocab = flags.vocab;
      const out = new LineWriter();
      const lines = sampleLineEncoder(space, { count: flags.count, seed: flags.seed, decoder });
      while (lines.next()) if (out.pushEncoded(lines, undefined)) await out.flush();
      await out.flush();
    });

  registerSearchCommand(program, scoringFlags, scoreOptionsFrom);

  program
    .command('info')
    .description('what this installation runs: version, SIMD path, threads, measures, families, benchmarks')
    .action(async () => {
      const native = await import('../native');
      // Without the addon, info still answers: which addon (none, and why), and what works (analytic mode).
      let engine: { simd: string | null; threads: number | null; addon: string | null; addonProblem?: string };
      try {
        engine = { simd: native.simd(), threads: native.defaultThreads(), addon: native.loadedAddonPath() ?? null };
      } catch (cause) {
        if (!(cause instanceof ZeroLMError && cause.code === 'E_NATIVE_MISSING')) throw cause;
        engine = { simd: null, threads: null, addon: null, addonProblem: cause.message };
      }
      const info = {
        version: require('../../package.json').version,
        ...engine,
        measures: measureNames,
        families,
        benchmarks: benchmarksModule().listBenchmarks(),
      };
      process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
    });
  addExamples(program);
  return program;
}

export async function main(argv = process.argv): Promise<void> {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    // A closed pipe (| head) is the reader's choice, not a failure.
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  try {
    await buildProgram().parseAsync(argv);
  } catch (cause) {
    // Commander has printed its own message (and the help); anything else is printed here, once.
    if (!(cause instanceof CommanderError)) {
      const error = cause instanceof ZeroLMError ? cause : undefined;
      process.stderr.write(`zerolm: ${error ? `${error.code}: ${error.message}` : (cause as Error)?.stack ?? String(cause)}\n`);
    }
    process.exitCode = exitStatusOf(cause);
  }
}

if (require.main === module) void main();
