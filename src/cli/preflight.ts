/**
 * Checks the command line makes before any work: an output that cannot be written, or an option no input could be
 * scored with, is one error (exit status 2) before the first architecture, not a failure after the last one.
 */
import { accessible } from '../io/files';
import { constants, promises as fs } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ZeroLMError } from '../errors';
import { resolveScoreOptions, type ScoreOptions } from '../proxy/score';

/**
 * `path` can be written as `flag`'s output: an existing file (or device, e.g. /dev/stdout) that is writable, or a new
 * file in a folder that exists and is writable. A folder is refused.
 */
export async function checkWritableOutput(path: string, flag: string): Promise<void> {
  const fail = (why: string): never => {
    throw new ZeroLMError('E_IO', `${flag} ${path}: ${why}`, { file: path, field: flag });
  };
  let exists = true;
  try {
    const stat = await fs.stat(path);
    if (stat.isDirectory()) fail('is a directory; give a file path');
  } catch (cause) {
    if (cause instanceof ZeroLMError) throw cause;
    if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') fail(`cannot be inspected (${(cause as Error).message})`);
    exists = false;
  }
  if (exists) {
    if (!(await accessible(path, constants.W_OK))) fail('is not writable');
    return;
  }
  const folder = dirname(resolve(path));
  try {
    if (!(await fs.stat(folder)).isDirectory()) fail(`${folder} is not a folder`);
  } catch (cause) {
    if (cause instanceof ZeroLMError) throw cause;
    fail(`folder ${folder} does not exist`);
  }
  if (!(await accessible(folder, constants.W_OK | constants.X_OK))) fail(`folder ${folder} is not writable`);
}

/** A plot path: .svg or .png (the two formats the plot is drawn in), and writable. */
export async function checkPlotOutput(path: string): Promise<void> {
  const lower = path.toLowerCase();
  if (!lower.endsWith('.svg') && !lower.endsWith('.png')) {
    throw new ZeroLMError('E_ARGUMENT', `--plot ${path}: the plot is drawn as .svg or .png; give a file name ending in one of them`, { file: path, field: '--plot' });
  }
  await checkWritableOutput(path, '--plot');
}

/** `--strategy fixed` takes its alpha from `--alpha`; without it there is nothing to use. */
export function checkStrategyFlags(flags: { strategy?: string; alpha?: number }): void {
  if (flags.strategy === 'fixed' && flags.alpha === undefined) {
    throw new ZeroLMError('E_ARGUMENT', '--strategy fixed needs --alpha A (the alpha to use); or choose --strategy sampling or heuristic', { field: '--alpha' });
  }
}

/** The scoring options (and each build of a list) resolve: a build, family, init or measure no input could use is refused now. */
export function checkScoringOptions(options: ScoreOptions, builds?: readonly string[]): void {
  // eta is left to the command (eval gives it to pca-k only, whatever --measure says).
  const checked = { ...options, eta: undefined };
  resolveScoreOptions(checked);
  for (const build of builds ?? []) resolveScoreOptions({ ...checked, build: build as ScoreOptions['build'] });
}
