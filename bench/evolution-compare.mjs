// Evolution's candidate evaluations per second, this checkout against a baseline build, side by side in one run:
//   node bench/evolution-compare.mjs BASELINE_DIST [ROUNDS]
// BASELINE_DIST is the dist/ of another commit, compiled (for example: `git worktree add /tmp/old COMMIT`, then in
// it `npx tsc -p tsconfig.json` and a link from /tmp/old/build to this checkout's build/, for the addon). Each round
// runs both, alternating which goes first, on the same compiled-space settings: lts-gpt2 (analytic) and
// nas-bench-bert, one million evaluations at 30% of the parameter range, seed 1; medians over the rounds.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const require = createRequire(import.meta.url);
const baseline = process.argv[2];
const rounds = Number(process.argv[3] ?? 5);
if (!baseline) {
  console.error('usage: node bench/evolution-compare.mjs BASELINE_DIST [ROUNDS]');
  process.exit(2);
}
const builds = { current: resolve('dist'), baseline: resolve(baseline) };
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

for (const [name, options] of [['lts-gpt2', { mode: 'analytic' }], ['nas-bench-bert', {}]]) {
  const runs = {};
  for (const [label, dist] of Object.entries(builds)) {
    const { compileSpace } = require(`${dist}/space`);
    const search = require(`${dist}/search`);
    const space = await compileSpace(name, { ...options, sequenceLength: 1024 });
    const { minParams, maxParams } = search.costExtremes(space);
    runs[label] = { space, search, budgets: { maxParams: Math.round(minParams + 0.3 * (maxParams - minParams)) }, rates: [], best: undefined };
  }
  const evaluations = 1_000_000;
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ['baseline', 'current'] : ['current', 'baseline'];
    for (const label of order) {
      const run = runs[label];
      const started = performance.now();
      const result = await run.search.searchBest(run.space, { budgets: run.budgets, algorithm: 'evolution', evaluations, seed: 1 });
      run.rates.push(evaluations / ((performance.now() - started) / 1000));
      run.best = result.picks[0].score;
    }
  }
  const current = median(runs.current.rates);
  const old = median(runs.baseline.rates);
  console.log(`${name}: evolution, one thread, median of ${rounds}: current ${(current / 1e6).toFixed(2)} M/s (best ${runs.current.best.toFixed(3)}), baseline ${(old / 1e6).toFixed(2)} M/s (best ${runs.baseline.best.toFixed(3)}), ratio ${(current / old).toFixed(2)}`);
  console.log(`  current runs: ${runs.current.rates.map((r) => (r / 1e6).toFixed(2)).join(', ')}; baseline runs: ${runs.baseline.rates.map((r) => (r / 1e6).toFixed(2)).join(', ')}`);
}
