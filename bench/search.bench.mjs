// Search speed (`node bench/search.bench.mjs` after `npm run build:ts`): exact search over the whole nas-bench-bert
// space (default score) and the lts-gpt2 and lts-txl spaces (analytic mode: an exact-mode compile of their 1,537 FFN
// widths takes many minutes) at three parameter budgets each; evolution's candidate evaluations per second. The compile is timed
// apart: it is paid once per space and scoring configuration.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { compileSpace } = require('../dist/space');
const { searchBest, costExtremes } = require('../dist/search');

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

for (const [name, options] of [['nas-bench-bert', {}], ['lts-gpt2', { mode: 'analytic' }], ['lts-txl', { mode: 'analytic' }]]) {
  let started = performance.now();
  const space = await compileSpace(name, { ...options, sequenceLength: 1024 });
  console.log(`${name} (${options.mode ?? 'exact'} mode): compile ${(performance.now() - started).toFixed(0)} ms, ${space.tables.contexts} contexts x ${space.tables.kinds} layer kinds`);
  const { minParams, maxParams } = costExtremes(space);
  for (const fraction of [0.1, 0.3, 0.6]) {
    const budgets = { maxParams: Math.round(minParams + fraction * (maxParams - minParams)) };
    const times = [];
    let result;
    for (let r = 0; r < 5; r++) {
      started = performance.now();
      result = await searchBest(space, { budgets });
      times.push(performance.now() - started);
    }
    console.log(`  exact, maxParams ${budgets.maxParams}: median ${median(times).toFixed(1)} ms (${result.evaluations} partial states), score ${result.picks[0].score.toFixed(3)}`);
  }
  if (name === 'lts-txl') {
    // NSC-DP's setting: Transformer-XL at 38.4M parameters +-5% (its 2 s on one core against 883-965 s of evolution).
    const budgets = { maxParams: 38.4e6 * 1.05, minParams: 38.4e6 * 0.95 };
    const times = [];
    let result;
    for (let r = 0; r < 5; r++) {
      started = performance.now();
      result = await searchBest(space, { budgets });
      times.push(performance.now() - started);
    }
    console.log(`  exact, 38.4M +-5% (NSC-DP's setting): median ${median(times).toFixed(1)} ms, score ${result.picks[0].score.toFixed(3)}, ${result.picks[0].params} params`);
  }
  const budgets = { maxParams: Math.round(minParams + 0.3 * (maxParams - minParams)) };
  for (const algorithm of ['evolution', 'random']) {
    const evaluations = 1_000_000;
    started = performance.now();
    const result = await searchBest(space, { budgets, algorithm, evaluations, seed: 1 });
    const seconds = (performance.now() - started) / 1000;
    console.log(`  ${algorithm}: ${(evaluations / seconds / 1e6).toFixed(2)} M evaluations/s (${evaluations} in ${seconds.toFixed(2)} s, one thread), best ${result.picks[0].score.toFixed(3)}`);
  }
}
