/** Calibration files: alpha together with how it was found and the configuration it is valid for. */
import { promises as fs } from 'node:fs';
import { ZeroLMError } from '../errors';
import { loadBenchmark } from '../eval/benchmarks';
import { componentsOfPlans, resolveScoreOptions, type ScoreOptions } from '../proxy/score';
import { validateRule } from '../proxy/alpha';
import { benchmarkPlans } from '../eval/evaluate';
import { calibrateAlpha, type AlphaStrategy, type Calibration, type CalibrationCriterion } from '.';

export const CALIBRATION_FORMAT = 'zerolm-calibration';
export const CALIBRATION_VERSION = 1;

export interface CalibrationFile extends Omit<Calibration, 'sample'> {
  format: typeof CALIBRATION_FORMAT;
  version: typeof CALIBRATION_VERSION;
  benchmark: string;
  /** Ids of the labelled architectures alpha was chosen on. */
  sampleIds: string[];
  measure: string;
  build: string;
  family: string;
  mode: string;
  perHead: boolean;
  seedPolicy: string;
  weightSeed: number;
  createdAt: string;
}

export interface CalibrateBenchmarkOptions extends ScoreOptions {
  strategy?: AlphaStrategy;
  criterion?: CalibrationCriterion;
  sampleSize?: number;
  sampleSeed?: number;
  dataDir?: string;
}

export async function calibrateBenchmark(name: string, options: CalibrateBenchmarkOptions = {}): Promise<CalibrationFile> {
  const benchmark = loadBenchmark(name, options.dataDir);
  const resolved = resolveScoreOptions({ ...options, alpha: 0.5, rule: options.rule ?? 'weighted-sum' });
  const plans = benchmarkPlans(benchmark, options.build);
  const components = await componentsOfPlans(plans, resolved);
  const calibration = calibrateAlpha(
    {
      attention: components.map((c) => c.attention),
      ffn: components.map((c) => c.ffn),
      labels: benchmark.entries.map((e) => e.label),
      higherIsBetter: benchmark.higherIsBetter,
    },
    { strategy: options.strategy, rule: resolved.rule, criterion: options.criterion, sampleSize: options.sampleSize, seed: options.sampleSeed, alpha: options.alpha },
  );
  const { sample, ...rest } = calibration;
  return {
    format: CALIBRATION_FORMAT,
    version: CALIBRATION_VERSION,
    benchmark: benchmark.name,
    ...rest,
    sampleIds: sample.map((i) => benchmark.entries[i].id),
    measure: resolved.measure.name,
    build: plans[0]?.build ?? String(options.build),
    family: benchmark.family,
    mode: resolved.mode,
    perHead: resolved.perHead,
    seedPolicy: resolved.seedPolicy,
    weightSeed: resolved.seed,
    createdAt: new Date().toISOString(),
  };
}

export async function writeCalibration(path: string, calibration: CalibrationFile): Promise<void> {
  try {
    await fs.writeFile(path, `${JSON.stringify(calibration, null, 2)}\n`);
  } catch (cause) {
    throw new ZeroLMError('E_IO', `cannot write calibration to ${path}: ${(cause as Error).message}`, { file: path });
  }
}

export async function readCalibration(path: string): Promise<CalibrationFile> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (cause) {
    throw new ZeroLMError('E_IO', `cannot read calibration ${path}: ${(cause as Error).message}`, { file: path });
  }
  let value: CalibrationFile;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ZeroLMError('E_PARSE', `${path}: invalid JSON (${(cause as Error).message})`, { file: path });
  }
  if (value?.format !== CALIBRATION_FORMAT || value.version !== CALIBRATION_VERSION) {
    throw new ZeroLMError('E_FORMAT', `${path}: not a zerolm calibration file (format "${CALIBRATION_FORMAT}", version ${CALIBRATION_VERSION} expected)`, { file: path, field: 'format' });
  }
  if (typeof value.alpha !== 'number' || !Number.isFinite(value.alpha)) {
    throw new ZeroLMError('E_NON_FINITE', `${path}: alpha must be a finite number, got ${String(value.alpha)}`, { file: path, field: 'alpha' });
  }
  for (const field of ['measure', 'build', 'mode', 'seedPolicy'] as const) {
    if (typeof value[field] !== 'string') throw new ZeroLMError('E_FORMAT', `${path}: field "${field}" must be a string`, { file: path, field });
  }
  // Files written before rules existed calibrated ZeroLM's weighted sum.
  value.rule ??= 'weighted-sum';
  validateRule(value.rule, `${path}: rule`);
  if (typeof value.perHead !== 'boolean') throw new ZeroLMError('E_FORMAT', `${path}: field "perHead" must be a boolean`, { file: path, field: 'perHead' });
  return value;
}
