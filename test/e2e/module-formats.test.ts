/**
 * The package as a consumer's project sees it (node_modules/zerolm linked to this checkout, resolved through the
 * `exports` map): `import` from an ES module and `require` from CommonJS both load it, to the same classes, and
 * TypeScript finds the types for both under Node's own resolution (nodenext).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const project = mkdtempSync(join(tmpdir(), 'zerolm-consumer-'));
mkdirSync(join(project, 'node_modules'));
symlinkSync(root, join(project, 'node_modules/zerolm'), 'dir');
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
afterAll(() => rmSync(project, { recursive: true, force: true }));

const architecture = { id: 'one', hidden_size: 256, nas_config: { encoder_layers: [{ operation_type: 'SA', num_operation_heads: 4, feed_forward_dimension: 1024, num_feed_forward: 1, operation_parameter: 'SDP' }] } };

function node(file: string, source: string) {
  writeFileSync(join(project, file), source);
  const result = spawnSync(process.execPath, [file], { cwd: project, encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout);
}

describe('module formats', () => {
  it('import { score } from "zerolm" works in an ES module, and its classes are those require() gives', () => {
    const out = node('use.mjs', `
      import { score, ZeroLMError, measureNames } from 'zerolm';
      import zerolm from 'zerolm';
      import { createRequire } from 'node:module';
      const required = createRequire(import.meta.url)('zerolm');
      const s = await score(${JSON.stringify(architecture)}, { mode: 'analytic' });
      process.stdout.write(JSON.stringify({ score: s.score, sameClass: ZeroLMError === required.ZeroLMError, defaultIsModule: zerolm.score === score, measures: measureNames.length }));
    `);
    expect(Number.isFinite(out.score)).toBe(true);
    expect(out.sameClass).toBe(true);
    expect(out.defaultIsModule).toBe(true);
    expect(out.measures).toBeGreaterThan(0);
  });

  it('require("zerolm") works in CommonJS and scores the same', () => {
    const esm = node('same.mjs', `import { score } from 'zerolm'; process.stdout.write(JSON.stringify((await score(${JSON.stringify(architecture)}, { mode: 'analytic' })).score));`);
    const cjs = node('use.cjs', `
      const { score, ZeroLMError } = require('zerolm');
      score(${JSON.stringify(architecture)}, { mode: 'analytic' }).then((s) => process.stdout.write(JSON.stringify({ score: s.score, isClass: typeof ZeroLMError === 'function' })));
    `);
    expect(cjs).toEqual({ score: esm, isClass: true });
  });

  it('TypeScript resolves the types of both entry points (moduleResolution nodenext)', () => {
    writeFileSync(join(project, 'typed.mts'), `import { score, type ScoreOptions } from 'zerolm';\nconst options: ScoreOptions = { mode: 'analytic' };\nexport const s: Promise<number> = score({}, options).then((r) => r.score);\n`);
    writeFileSync(join(project, 'typed.cts'), `import zerolm = require('zerolm');\nexport const names: readonly string[] = zerolm.measureNames;\n`);
    writeFileSync(join(project, 'wrong.mts'), `import { score } from 'zerolm';\nexport const s = score({}, { mode: 'fast' });\n`);
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const common = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(root, 'node_modules/@types')];
    const good = spawnSync(process.execPath, [tsc, ...common, 'typed.mts', 'typed.cts'], { cwd: project, encoding: 'utf8' });
    expect(good.stdout).toBe('');
    expect(good.status).toBe(0);
    // The types are really read: a mode that does not exist is refused.
    const wrong = spawnSync(process.execPath, [tsc, ...common, 'wrong.mts'], { cwd: project, encoding: 'utf8' });
    expect(wrong.status).not.toBe(0);
    expect(wrong.stdout).toContain('"fast"');
  }, 60000);
});
