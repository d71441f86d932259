// Runs every bench/*.bench.mjs in sequence (`npm run bench`), each in its own node process.
// Benchmarks import the compiled library from dist/: build it first (`npm run build`).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const suites = readdirSync(here).filter((name) => name.endsWith('.bench.mjs')).sort();
const failed = [];
for (const suite of suites) {
  console.log(`\n## ${suite}\n`);
  const started = Date.now();
  const run = spawnSync(process.execPath, [join(here, suite)], { stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (run.status !== 0) {
    failed.push(suite);
    console.log(`\n${suite} failed (exit ${run.status ?? run.signal}) after ${seconds} s`);
  } else {
    console.log(`\n${suite} done in ${seconds} s`);
  }
}
if (failed.length > 0) {
  console.error(`\n${failed.length} of ${suites.length} suites failed: ${failed.join(', ')}`);
  process.exit(1);
}
