/** Calibration files: alpha together with how it was found and the configuration it is valid for. */
import { promises as fs } from 'node:fs';
import { ZeroLMError } from '../errors';
import { componentsOfPlans, resolveScoreOptions, type ScoreOptions } from '../proxy/score';
import { validateRule } from '../proxy/alpha';
import { calibrateAlpha, type AlphaStrategy, type Calibration, type CalibrationCriterion } from '.';
import { dirname, resolve as resolvePath } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { buildPlan } from '../arch';
import { fingerprintOf, isSpaceFingerprint, type SpaceFingerprint } from '../arch/fingerprint';
import type { ModelPlan } from '../arch/types';

export const CALIBRATION_FORMAT = 'zerolm-calibration';
export const CALIBRATION_VERSION = 1;

export interface CalibrationFile extends Omit<Calibration, 'sample'> {
  format: typeof CALIBRATION_FORMAT;
  version: typeof CALIBRATION_VERSION;
  /** The embedded benchmark it was fitted on, or null for a labels file. */
  benchmark: string | null;
  /** The labels file it was fitted on (`zerolm calibrate --labels`), when not a benchmark. */
  labels?: string;
  /** Ids of the labelled architectures alpha was chosen on. */
  sampleIds: string[];
  measure: string;
  build: string;
  family: string;
  mode: string;
  perHead: boolean;
  seedPolicy: string;
  weightSeed: number;
  /** The space it was fitted on: family, build, layer counts and every matrix role's shape ranges. */
  space?: SpaceFingerprint;
  createdAt: string;
}

/** How alpha is fitted on labelled architectures (calibrateOnPlans, calibrateLabels, calibrateBenchmark). */
export interface CalibrateBenchmarkOptions extends ScoreOptions {
  strategy?: AlphaStrategy;
  criterion?: CalibrationCriterion;
  sampleSize?: number;
  sampleSeed?: number;
  /** Where the embedded benchmarks are read from (calibrateBenchmark only). */
  dataDir?: string;
}

/** A labelled architecture, planned. */
export interface LabelledPlan {
  id: string;
  plan: ModelPlan;
  label: number;
}

/** Calibrates alpha on labelled plans (all of one family and build) and describes where it was fitted. */
export async function calibrateOnPlans(
  entries: readonly LabelledPlan[],
  higherIsBetter: boolean,
  fittedOn: { benchmark: string | null; labels?: string },
  options: CalibrateBenchmarkOptions = {},
): Promise<CalibrationFile> {
  const resolved = resolveScoreOptions({ ...options, alpha: 0.5, rule: options.rule ?? 'weighted-sum' });
  const plans = entries.map((e) => e.plan);
  const families = new Set(plans.map((p) => `${p.family} ${p.build}`));
  if (families.size > 1) {
    throw new ZeroLMError('E_ARGUMENT', `labelled architectures must be of one family and build to share an alpha, got ${[...families].join(', ')}`, { field: 'family' });
  }
  const components = await componentsOfPlans(plans, resolved);
  const calibration = calibrateAlpha(
    { attention: components.map((c) => c.attention), ffn: components.map((c) => c.ffn), labels: entries.map((e) => e.label), higherIsBetter },
    { strategy: options.strategy, rule: resolved.rule, criterion: options.criterion, sampleSize: options.sampleSize, seed: options.sampleSeed, alpha: options.alpha },
  );
  const { sample, ...rest } = calibration;
  return {
    format: CALIBRATION_FORMAT,
    version: CALIBRATION_VERSION,
    benchmark: fittedOn.benchmark,
    ...(fittedOn.labels === undefined ? {} : { labels: fittedOn.labels }),
    ...rest,
    sampleIds: sample.map((i) => entries[i].id),
    measure: resolved.measure.name,
    build: plans[0]?.build ?? String(options.build),
    family: plans[0]?.family ?? String(options.family),
    mode: resolved.mode,
    perHead: resolved.perHead,
    seedPolicy: resolved.seedPolicy,
    weightSeed: resolved.seed,
    space: fingerprintOf(plans),
    createdAt: new Date().toISOString(),
  };
}

/**
 * Reads the user's own labelled architectures: JSONL of {architecture, label, higherIsBetter?, id?}, or CSV with a
 * header naming `architecture` (a JSON or YAML file, relative to the CSV) and `label` (and optionally `id` and
 * `higherIsBetter`). Every problem is an error naming file, line and field: a calibration is only as good as its labels.
 */
export async function readLabels(file: string, options: { family?: ScoreOptions['family']; build?: ScoreOptions['build'] } = {}): Promise<{ entries: LabelledPlan[]; higherIsBetter: boolean | undefined }> {
  let text: string;
  try {
    text = (await fs.readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  } catch (cause) {
    throw new ZeroLMError('E_IO', `cannot read labels ${file}: ${(cause as Error).message}`, { file });
  }
  const rows: Array<{ line: number; architecture: unknown; label: unknown; higherIsBetter: unknown; id: unknown }> = [];
  const lines = text.split(/\r\n|\r|\n/);
  if (/\.csv$/i.test(file)) {
    const header = (lines[0] ?? '').split(',').map((cell) => cell.trim());
    const column = (name: string): number => header.indexOf(name);
    for (const required of ['architecture', 'label']) {
      if (column(required) < 0) throw new ZeroLMError('E_FORMAT', `${file}: line 1: the header must name an "${required}" column, got ${JSON.stringify(lines[0] ?? '')}`, { file, line: 1, field: required });
    }
    for (let i = 1; i < lines.length; i++) {
      if (lines[i].trim() === '') continue;
      const cells = lines[i].split(',').map((cell) => cell.trim());
      if (cells.length !== header.length) throw new ZeroLMError('E_FORMAT', `${file}: line ${i + 1}: ${cells.length} fields, the header has ${header.length}`, { file, line: i + 1 });
      const where = resolvePath(dirname(file), cells[column('architecture')]);
      let architecture: unknown;
      try {
        const body = await fs.readFile(where, 'utf8');
        architecture = /\.ya?ml$/i.test(where) ? parseYaml(body) : JSON.parse(body);
      } catch (cause) {
        throw new ZeroLMError('E_IO', `${file}: line ${i + 1}: cannot read architecture ${where}: ${(cause as Error).message}`, { file, line: i + 1, field: 'architecture' });
      }
      const flag = column('higherIsBetter') >= 0 ? cells[column('higherIsBetter')] : undefined;
      rows.push({ line: i + 1, architecture, label: Number(cells[column('label')] === '' ? Number.NaN : cells[column('label')]), higherIsBetter: flag === undefined || flag === '' ? undefined : flag === 'true' ? true : flag === 'false' ? false : flag, id: column('id') >= 0 ? cells[column('id')] : undefined });
    }
  } else {
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].trim() === '') continue;
      let value: Record<string, unknown>;
      try {
        value = JSON.parse(lines[i]);
      } catch (cause) {
        throw new ZeroLMError('E_PARSE', `${file}: line ${i + 1}: invalid JSON (${(cause as Error).message})`, { file, line: i + 1 });
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ZeroLMError('E_FORMAT', `${file}: line ${i + 1}: expected an object {architecture, label}`, { file, line: i + 1 });
      rows.push({ line: i + 1, architecture: value.architecture, label: value.label, higherIsBetter: value.higherIsBetter, id: value.id });
    }
  }
  if (rows.length < 2) throw new ZeroLMError('E_FORMAT', `${file}: calibration needs at least 2 labelled architectures, found ${rows.length}`, { file });
  let higherIsBetter: boolean | undefined;
  const entries = rows.map((row, index): LabelledPlan => {
    const at = { file, line: row.line };
    if (typeof row.label !== 'number' || !Number.isFinite(row.label)) throw new ZeroLMError('E_FORMAT', `${file}: line ${row.line}: label must be a finite number, got ${JSON.stringify(row.label)}`, { ...at, field: 'label' });
    if (row.higherIsBetter !== undefined) {
      if (typeof row.higherIsBetter !== 'boolean') throw new ZeroLMError('E_FORMAT', `${file}: line ${row.line}: higherIsBetter must be true or false, got ${JSON.stringify(row.higherIsBetter)}`, { ...at, field: 'higherIsBetter' });
      if (higherIsBetter !== undefined && higherIsBetter !== row.higherIsBetter) throw new ZeroLMError('E_FORMAT', `${file}: line ${row.line}: higherIsBetter ${row.higherIsBetter} contradicts an earlier line`, { ...at, field: 'higherIsBetter' });
      higherIsBetter = row.higherIsBetter;
    }
    if (row.architecture === undefined) throw new ZeroLMError('E_FORMAT', `${file}: line ${row.line}: architecture is missing`, { ...at, field: 'architecture' });
    const id = typeof row.id === 'string' || typeof row.id === 'number' ? String(row.id) : String(index);
    let plan: ModelPlan;
    try {
      plan = buildPlan(row.architecture, { family: options.family, build: options.build, id });
    } catch (cause) {
      if (cause instanceof ZeroLMError) throw new ZeroLMError(cause.code, `${file}: line ${row.line}: architecture: ${cause.message}`, { ...at, field: 'architecture' }, { cause });
      throw cause;
    }
    return { id, plan, label: row.label };
  });
  return { entries, higherIsBetter };
}

/** `zerolm calibrate --labels FILE`: alpha fitted on the user's own labelled architectures. */
export async function calibrateLabels(file: string, options: CalibrateBenchmarkOptions & { higherIsBetter?: boolean } = {}): Promise<CalibrationFile> {
  const { entries, higherIsBetter } = await readLabels(file, { family: options.family, build: options.build });
  if (options.higherIsBetter !== undefined && higherIsBetter !== undefined && options.higherIsBetter !== higherIsBetter) {
    throw new ZeroLMError('E_ARGUMENT', `${file} says higherIsBetter ${higherIsBetter}, the option says ${options.higherIsBetter}`, { file, field: 'higherIsBetter' });
  }
  const direction = options.higherIsBetter ?? higherIsBetter;
  if (direction === undefined) {
    throw new ZeroLMError('E_ARGUMENT', `${file} does not say whether a higher label is better: add "higherIsBetter" to its lines (or column), or pass --higher-is-better or --lower-is-better`, { file, field: 'higherIsBetter' });
  }
  return calibrateOnPlans(entries, direction, { benchmark: null, labels: file }, options);
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
  if (value.space !== undefined && !isSpaceFingerprint(value.space)) throw new ZeroLMError('E_FORMAT', `${path}: field "space" is not a space fingerprint`, { file: path, field: 'space' });
  // Files written before rules existed calibrated ZeroLM's weighted sum.
  value.rule ??= 'weighted-sum';
  validateRule(value.rule, `${path}: rule`);
  if (typeof value.perHead !== 'boolean') throw new ZeroLMError('E_FORMAT', `${path}: field "perHead" must be a boolean`, { file: path, field: 'perHead' });
  return value;
}
