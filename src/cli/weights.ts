/**
 * `zerolm score CONFIG.json --weights PATH [--per-matrix] [--prune FILE]`: one Hugging Face config scored on its real
 * weights (the library's scoreWeights). One JSON line on stdout: the score, or an error record; warnings once on
 * stderr. Exit 0, 1 when the config or weights were refused, 2 when the command itself was wrong.
 */
import { readFileSync } from 'node:fs';
import { ZeroLMError } from '../errors';
import { scoreWeights, type PruneSpec } from '../proxy/real-weights';
import type { ScoreOptions } from '../proxy/score';
import { ProgressLine } from './output';

export interface WeightsFlags {
  weights?: string;
  perMatrix?: boolean;
  prune?: string;
  alpha?: number;
  cache?: string;
  calibration?: string;
  benchmark?: string;
  progress?: boolean;
  options: ScoreOptions;
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ZeroLMError('E_IO', `${file}: cannot read ${what}: ${(cause as Error).message}`, { file }, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ZeroLMError('E_PARSE', `${file}: invalid JSON: ${(cause as Error).message}`, { file }, { cause });
  }
}

export async function runScoreWeights(files: string[], flags: WeightsFlags): Promise<number> {
  const usage = (message: string): number => {
    process.stderr.write(`zerolm score: ${message}\n`);
    return 2;
  };
  if (flags.weights === undefined) return usage('--per-matrix and --prune need --weights');
  if (files.length !== 1 || files[0] === '-') return usage('--weights scores exactly one config file (config.json)');
  if (flags.benchmark !== undefined || flags.calibration !== undefined || flags.cache !== undefined) return usage('--weights takes no --benchmark, --calibration or --cache');
  const [file] = files;
  try {
    const config = readJson(file, 'the config');
    const prune = flags.prune === undefined ? undefined : (readJson(flags.prune, 'the prune file') as PruneSpec);
    const progress = new ProgressLine('scoring matrices', flags.progress !== false && Boolean(process.stderr.isTTY));
    const record = await scoreWeights(config, {
      onProgress: ({ done, total }) => progress.update(done, total),
      ...flags.options,
      ...(flags.alpha === undefined ? {} : { alpha: flags.alpha }),
      weights: flags.weights,
      perMatrix: flags.perMatrix === true,
      ...(prune === undefined ? {} : { prune }),
    });
    progress.end();
    for (const warning of record.warnings ?? []) process.stderr.write(`zerolm score: warning: ${warning}\n`);
    process.stdout.write(`${JSON.stringify({ ...record, source: file })}\n`);
    return 0;
  } catch (cause) {
    if (!(cause instanceof ZeroLMError)) throw cause;
    // Option errors are the command's fault (exit 2); anything about the files is the input's (an error record, 1).
    if (cause.code === 'E_ARGUMENT') return usage(`${cause.code}: ${cause.message}`);
    process.stdout.write(`${JSON.stringify({ source: file, index: 0, error: cause.toJSON() })}\n`);
    process.stderr.write(`zerolm score: ${file}: ${cause.code}: ${cause.message}\n`);
    return 1;
  }
}
