/**
 * Where src/native.ts finds the addon, tried on copies of the compiled package (dist/ with package.json) that hold
 * a local build, a prebuild, both or neither: ZEROLM_NATIVE_PATH first and alone, then build/Release, then the
 * prebuild for this platform (node-gyp-build's layout), else one E_NATIVE_MISSING while analytic scoring still works.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtAddon, packageCopy as copyInto, type CopyContents } from '../helpers/package-copy';

const work = mkdtempSync(join(tmpdir(), 'zerolm-loader-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const packageCopy = (name: string, contents: CopyContents): string => copyInto(join(work, name), contents);

/** Runs a script against the copy's dist/ with `z` bound to it; prints its result as JSON. */
function runIn(copy: string, body: string, env: Record<string, string | undefined> = {}) {
  const environment: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (!('ZEROLM_NATIVE_PATH' in env)) delete environment.ZEROLM_NATIVE_PATH;
  const script = `const z = require(${JSON.stringify(join(copy, 'dist'))}); const native = require(${JSON.stringify(join(copy, 'dist/native'))});\n(async () => { ${body} })().then((r) => process.stdout.write(JSON.stringify(r)), (e) => { process.stdout.write(JSON.stringify({ thrown: e.code, message: e.message })); });`;
  const result = spawnSync(process.execPath, ['-e', script], { cwd: work, env: environment, encoding: 'utf8' });
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout);
}

const whichLoaded = 'native.simd(); return native.loadedAddonPath();';

describe('addon loading order', () => {
  it('a local build wins over the prebuild', () => {
    const copy = packageCopy('both', { localBuild: true, prebuild: true });
    expect(runIn(copy, whichLoaded)).toBe(join(copy, 'build/Release/zerolm_native.node'));
  });

  it('the prebuild for this platform is used when there is no local build', () => {
    const copy = packageCopy('prebuild-only', { prebuild: true });
    expect(runIn(copy, whichLoaded)).toBe(join(copy, 'prebuilds', `${process.platform}-${process.arch}`, 'zerolm.napi.node'));
  });

  it('ZEROLM_NATIVE_PATH is taken first, and alone', () => {
    const copy = packageCopy('environment', { localBuild: true, prebuild: true });
    const elsewhere = join(work, 'elsewhere.node');
    copyFileSync(builtAddon, elsewhere);
    expect(runIn(copy, whichLoaded, { ZEROLM_NATIVE_PATH: elsewhere })).toBe(elsewhere);
    const missing = runIn(copy, whichLoaded, { ZEROLM_NATIVE_PATH: join(work, 'no-such.node') });
    expect(missing.thrown).toBe('E_NATIVE_MISSING');
    expect(missing.message).toContain(join(work, 'no-such.node'));
    expect(missing.message).not.toContain('build/Release');
  });

  it('with no addon: the package loads, analytic scoring works, the first native call throws one E_NATIVE_MISSING', () => {
    const copy = packageCopy('none', {});
    const outcome = runIn(copy, `
      const architecture = z.loadBenchmark('nas-bench-bert').entries[0].architecture;
      const analytic = await z.score(architecture, { mode: 'analytic' });
      const errors = [];
      for (const mode of ['exact', 'bidiagonal']) {
        try { await z.score(architecture, { mode }); } catch (e) { errors.push(e); }
      }
      try { native.simd(); } catch (e) { errors.push(e); }
      return { analytic: analytic.score, codes: errors.map((e) => e.code), same: errors.every((e) => e === errors[0]), message: errors[0].message };
    `);
    expect(Number.isFinite(outcome.analytic)).toBe(true);
    expect(outcome.codes).toEqual(['E_NATIVE_MISSING', 'E_NATIVE_MISSING', 'E_NATIVE_MISSING']);
    expect(outcome.same).toBe(true); // searched for once, then the same error
    expect(outcome.message).toContain(`${process.platform}-${process.arch}`);
    expect(outcome.message).toContain('npm rebuild zerolm');
    expect(outcome.message).toContain('cmake');
    expect(outcome.message).not.toContain('npm run');
  });
});

describe('zerolm score without the addon', () => {
  it('stops at the first input with one error line and exit status 2, instead of one error per input; info says why', () => {
    const copy = packageCopy('cli', {});
    const cli = join(copy, 'dist/cli/main.js');
    const env = { ...process.env };
    delete env.ZEROLM_NATIVE_PATH;
    const sample = spawnSync(process.execPath, [cli, 'sample', 'nas-bench-bert', '--count', '1000', '--seed', '3'], { encoding: 'utf8', env });
    expect(sample.status).toBe(0);
    for (const workers of ['0', '2']) {
      const scored = spawnSync(process.execPath, [cli, 'score', '--workers', workers], { input: sample.stdout, encoding: 'utf8', env });
      expect(scored.status).toBe(2);
      expect(scored.stdout).toBe('');
      expect(scored.stderr.trim().split('\n')).toHaveLength(1);
      expect(scored.stderr).toContain('E_NATIVE_MISSING');
    }
    const info = spawnSync(process.execPath, [cli, 'info'], { encoding: 'utf8', env });
    expect(info.status).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ addon: null, simd: null, addonProblem: expect.stringContaining('npm rebuild zerolm') });
    const analytic = spawnSync(process.execPath, [cli, 'score', '--mode', 'analytic'], { input: sample.stdout, encoding: 'utf8', env });
    expect(analytic.status).toBe(0);
    expect(analytic.stdout.trim().split('\n')).toHaveLength(1000);
  });
});
