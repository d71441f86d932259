import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { resolve } from 'node:path';
import { ZeroLMError, type ErrorCode } from '../../../src/errors';
import type { ModelPlan } from '../../../src/arch/types';
import { buildPlan, detectFamily } from '../../../src/arch';
import { caughtZeroLMError } from '../../helpers/zerolm-error';

/** Runs `fn`, expects a ZeroLMError with `code`, and returns it for further checks. */
export function expectError(fn: () => unknown, code: ErrorCode): ZeroLMError {
  const e = caughtZeroLMError(fn);
  if (e === undefined) throw new Error(`expected a ZeroLMError ${code}, but nothing was thrown`);
  if (e.code !== code) throw new Error(`expected ${code}, got ${e.code}: ${e.message}`);
  return e;
}

/** The bookkeeping every plan must satisfy, whatever the family. Collects problems and asserts once (fast). */
export function expectConsistent(plan: ModelPlan): void {
  const problems: string[] = [];
  let attention = 0;
  let ffn = 0;
  let other = 0;
  for (const layer of plan.layers) {
    attention += layer.params.attention;
    ffn += layer.params.ffn;
    other += layer.params.other;
    for (const spec of [...layer.attention, ...layer.ffn]) {
      if (!(Number.isInteger(spec.rows) && spec.rows > 0 && Number.isInteger(spec.cols) && spec.cols > 0)) problems.push(`${spec.name}: bad shape`);
      if (spec.heads !== undefined && (spec.headAxis === 'rows' ? spec.rows : spec.cols) % spec.heads !== 0) problems.push(`${spec.name}: heads do not divide`);
    }
  }
  if (plan.params.attention !== attention) problems.push('attention sum');
  if (plan.params.ffn !== ffn) problems.push('ffn sum');
  if (plan.params.total !== plan.params.embedding + attention + ffn + other) problems.push('total');
  if (plan.params.nonEmbedding !== plan.params.total - plan.params.embedding) problems.push('nonEmbedding');
  const names = [...plan.layers.flatMap((l) => [...l.attention, ...l.ffn]), ...plan.extras].map((s) => s.name);
  if (new Set(names).size !== names.length) problems.push('duplicate names');
  expect(problems).toEqual([]);
}

/** [rows, cols] of a list of matrices. */
export const shapes = (specs: { rows: number; cols: number }[]): [number, number][] => specs.map((s) => [s.rows, s.cols]);

/**
 * A benchmark file: the copy embedded in the package (data/benchmarks) when it is there, else the shared source
 * this project's data was copied from.
 */
export function benchmarkFile(relative: string): string {
  const embedded = resolve(__dirname, '../../../data/benchmarks', relative);
  return existsSync(embedded) ? embedded : resolve('/work/shared/benchmarks', relative);
}

/** An LTS benchmark (lts-gpt2-wt103, lts-txl-wt103): its architecture configs by name, and its params_summary.yaml. */
export function ltsBenchmark(folder: string): { summary: Record<string, { AdaEmb: number; Attn: number; FFN: number; nonembedding: number; total: number }>; config(name: string): Record<string, unknown> } {
  return {
    summary: parse(readFileSync(benchmarkFile(`${folder}/params_summary.yaml`), 'utf8')),
    config(name: string): Record<string, unknown> {
      const match = /^config_(\d+)_j(\d+)$/.exec(name);
      if (!match) throw new Error(`bad architecture name ${name}`);
      return parse(readFileSync(benchmarkFile(`${folder}/config_${match[1]}/j${match[2]}/model_config.yaml`), 'utf8')) as Record<string, unknown>;
    },
  };
}

/**
 * Every architecture of an LTS benchmark is detected as `family` and its plan's counts equal params_summary.yaml
 * exactly (AdaEmb: the extras named embeddings.*).
 */
export function expectLtsCountsExact(folder: string, family: string): void {
  const { summary, config } = ltsBenchmark(folder);
  const names = Object.keys(summary);
  expect(names.length).toBe(200);
  const mismatches: string[] = [];
  for (const name of names) {
    const input = config(name);
    expect(detectFamily(input)).toBe(family);
    const plan = buildPlan(input, { id: name });
    const got = {
      AdaEmb: adaptiveEmbedding(plan),
      Attn: plan.params.attention,
      FFN: plan.params.ffn,
      nonembedding: plan.params.nonEmbedding,
      total: plan.params.total,
    };
    if (JSON.stringify(got) !== JSON.stringify(summary[name])) mismatches.push(`${name}: ${JSON.stringify(got)} != ${JSON.stringify(summary[name])}`);
    expectConsistent(plan);
  }
  expect(mismatches).toEqual([]);
}

/** Parameters of the adaptive input embedding (and learned positions, where a family has them): the extras named embeddings.*. */
export const adaptiveEmbedding = (plan: ModelPlan): number => plan.extras.filter((m) => m.name.startsWith('embeddings.')).reduce((sum, m) => sum + m.rows * m.cols, 0);
