// Throughput of whole-architecture scoring, side by side in one run (issue: score millions of candidates per
// second, exact when asked). Imports the compiled package from dist/ (`npx tsc -p tsconfig.json` first).
//  0. Compiled spaces (every built-in space, src/space/): analytic and cached exact, 1e6 random candidates; and the
//     CLI pipe `zerolm sample SPACE --count N | zerolm score --mode analytic` for every space, the nas-bench-bert
//     lines also re-serialised (other key order and spacing), with peak RSS. `--only spaces` runs this section alone,
//     `--only compiled` its compiled-space table alone;
//     `--rounds N` sets its CLI runs per input.
//  1. Columnar FlexiBERT API: exact layer table (cached) and analytic, 1e3 / 1e5 / 1e6 random candidates.
//  2. Library object path (scoreMany): exact without cache, cached, analytic.
//  3. CLI pipe `zerolm sample | zerolm score`, and the peak memory of a stream of 1e6.
//  4. Exact with fresh random weights and full spectra on the 500 nas-bench-bert architectures (as-trained),
//     beside a plain-JavaScript implementation of the same proxy and python3+numpy, on the same architectures.
import { spawnSync, execSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { Bench } from 'tinybench';
import * as reference from './lib/reference-proxy.mjs';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const zerolm = require(join(root, 'dist/index.js'));
const { createFlexibertScorer, randomFlexibertColumns, flexibertObjectAt } = require(join(root, 'dist/space/flexibert.js'));
const { componentsOfPlans, resolveScoreOptions, toPlan } = require(join(root, 'dist/proxy/score.js'));
const cli = join(root, 'dist/cli/main.js');
const quick = process.argv.includes('--quick');
const work = mkdtempSync(join(tmpdir(), 'zerolm-bench-'));

const haveTime = existsSync('/usr/bin/time');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rate = (count, ms) => Math.round((count / ms) * 1000);
const fmt = (n) => n.toLocaleString('en-US');
console.log(`machine: ${cpus()[0].model}, ${zerolm.availableCores()} cores; node ${process.version}; SIMD ${zerolm.simd()}`);

// ---- 0. Compiled spaces, and every space through the CLI
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? process.argv[onlyAt + 1] : undefined;
{
  const { seededRandom } = require(join(root, 'dist/stats/random.js'));
  const count = quick ? 1e5 : 1e6;
  console.log(`\n### Compiled spaces (compileSpace: typed arrays in, typed arrays out), ${fmt(count)} random candidates, candidates/s, median of 5 runs\n`);
  console.log('| space | mode | layer kinds | contexts | compile s | candidates/s |');
  console.log('|---|---|---|---|---|---|');
  // Cached exact on lts-gpt2 and hf-decoder compiles every distinct matrix exactly once (92,000 ffn shapes for
  // lts-gpt2's d_inner 512-2048): minutes here, so those rows use a coarser grid of the same ranges. Scoring speed
  // depends on the table's size, not on how its entries were computed.
  const coarse = {
    'lts-gpt2': () => ({ ...zerolm.builtinSpace('lts-gpt2'), layerChoices: { n_head: [2, 4, 8], d_inner: Array.from({ length: 25 }, (_, i) => 512 + 64 * i) } }),
    'lts-txl': () => ({ ...zerolm.builtinSpace('lts-txl'), layerChoices: { n_head: [2, 4, 8], d_inner: Array.from({ length: 25 }, (_, i) => 512 + 64 * i) } }),
    'hf-decoder': () => zerolm.builtinSpace('hf-decoder', { hidden: [512, 1024, 256], layers: [8, 32] }),
  };
  for (const name of zerolm.builtinSpaceNames) {
    for (const mode of ['analytic', 'exact']) {
      const space = mode === 'exact' && coarse[name] ? coarse[name]() : name;
      const started = performance.now();
      const compiled = await zerolm.compileSpace(space, { mode, cache: new zerolm.CapacityCache() });
      const compileMs = performance.now() - started;
      const candidates = compiled.randomCandidates(count, seededRandom(1));
      const out = compiled.score(candidates);
      const times = [];
      for (let r = 0; r < 5; r++) {
        const t = performance.now();
        compiled.score(candidates, out);
        times.push(performance.now() - t);
      }
      const label = mode === 'exact' ? `exact (cached)${coarse[name] ? ', coarser grid' : ''}` : mode;
      console.log(`| ${name} | ${label} | ${fmt(compiled.tables.kinds)} | ${fmt(compiled.tables.contexts)} | ${(compileMs / 1000).toFixed(2)} | ${fmt(rate(count, median(times)))} |`);
    }
  }
  if (only === 'compiled') process.exit(0);
  const lines = quick ? 1e5 : 1e6;
  const roundsAt = process.argv.indexOf('--rounds');
  const rounds = roundsAt > 0 ? Number(process.argv[roundsAt + 1]) : quick ? 1 : 3;
  console.log(`\n### CLI, every space: zerolm sample SPACE --count ${fmt(lines)} | zerolm score --mode analytic, median of ${rounds} run(s)\n`);
  console.log('| input | wall s | architectures/s | peak RSS of zerolm score |');
  console.log('|---|---|---|---|');
  const sampledBert = join(work, 'spaces-nas-bench-bert.jsonl');
  const reserialised = join(work, 'spaces-nas-bench-bert-reserialised.jsonl');
  execSync(`"${process.execPath}" "${cli}" sample nas-bench-bert --count ${lines} > ${sampledBert}`, { shell: '/bin/bash' });
  // The same lines, every object's keys in reverse order, with a space after each colon and comma.
  const reverse = `const rl = require('readline').createInterface({ input: require('fs').createReadStream(process.argv[1]) }); const out = require('fs').createWriteStream(process.argv[2]); const rev = (v) => Array.isArray(v) ? v.map(rev) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).reverse().map((k) => [k, rev(v[k])])) : v; rl.on('line', (l) => out.write(JSON.stringify(rev(JSON.parse(l)), null, 0).replace(/,"/g, ', "').replace(/":/g, '": ') + '\\n')); rl.on('close', () => out.end());`;
  execSync(`"${process.execPath}" -e "${reverse.replace(/"/g, '\\"')}" ${sampledBert} ${reserialised}`, { shell: '/bin/bash' });
  const inputs = [
    ...zerolm.builtinSpaceNames.map((name) => [`sample ${name} \\| score`, `"${process.execPath}" "${cli}" sample ${name} --count ${lines} | @TIMED@"${process.execPath}" "${cli}" score --mode analytic > /dev/null`]),
    ['cat (sampled nas-bench-bert lines) \\| score', `cat ${sampledBert} | @TIMED@"${process.execPath}" "${cli}" score --mode analytic > /dev/null`],
    ['cat (the same lines re-serialised: keys reversed, spaces) \\| score', `cat ${reserialised} | @TIMED@"${process.execPath}" "${cli}" score --mode analytic > /dev/null`],
  ];
  const results = new Map(inputs.map(([label]) => [label, []]));
  for (let r = 0; r < rounds; r++) for (const [label, command] of r % 2 === 0 ? inputs : [...inputs].reverse()) results.get(label).push(timedShell(command));
  for (const [label, times] of results) {
    const ms = median(times.map((t) => t.ms));
    const rss = Math.max(...times.map((t) => t.rssMb));
    console.log(`| ${label} | ${(ms / 1000).toFixed(2)} | ${fmt(rate(lines, ms))} | ${Number.isFinite(rss) ? `${rss.toFixed(0)} MB` : 'n/a'} |`);
  }
  if (only === 'spaces') process.exit(0);
}

// ---- 1. Columnar
console.log('\n### Columnar FlexiBERT API (typed arrays in, typed arrays out), architectures/s, median of tinybench runs\n');
console.log('| candidates | exact layer table (cached) | analytic |');
console.log('|---|---|---|');
const exactScorer = await createFlexibertScorer({});
const analyticScorer = await createFlexibertScorer({ mode: 'analytic' });
for (const count of quick ? [1e3, 1e5] : [1e3, 1e5, 1e6]) {
  const columns = randomFlexibertColumns(count, 1);
  const out = { score: new Float64Array(count), attention: new Float64Array(count), ffn: new Float64Array(count), params: new Float64Array(count) };
  const bench = new Bench({ time: 500, iterations: 5 });
  bench.add('exact', () => exactScorer.score(columns, out)).add('analytic', () => analyticScorer.score(columns, out));
  await bench.run();
  const [exact, analytic] = bench.tasks.map((t) => rate(count, t.result.latency.p50));
  console.log(`| ${fmt(count)} | ${fmt(exact)} | ${fmt(analytic)} |`);
}

// ---- 2. Library object path
console.log('\n### Library object path (scoreMany over objects), architectures/s, median of 3 runs\n');
console.log('| candidates | exact, no cache | exact, cached | analytic |');
console.log('|---|---|---|---|');
async function scoreManyRate(objects, options) {
  const times = [];
  for (let r = 0; r < 3; r++) {
    const started = performance.now();
    let n = 0;
    for await (const record of zerolm.scoreMany(objects, options())) if (!record.error) n++;
    if (n !== objects.length) throw new Error(`scored ${n} of ${objects.length}`);
    times.push(performance.now() - started);
  }
  return rate(objects.length, median(times));
}
async function noCacheRate(objects) {
  // Every candidate on its own: fresh options, fresh cache, nothing shared between candidates.
  const times = [];
  for (let r = 0; r < 3; r++) {
    const started = performance.now();
    for (const object of objects) await zerolm.score(object, { cache: new zerolm.CapacityCache() });
    times.push(performance.now() - started);
  }
  return rate(objects.length, median(times));
}
for (const count of quick ? [1e3] : [1e3, 1e5]) {
  const columns = randomFlexibertColumns(count, 2);
  const objects = Array.from({ length: count }, (_, i) => flexibertObjectAt(columns, i));
  const cache = new zerolm.CapacityCache();
  const exactNoCache = count <= 1e3 ? fmt(await noCacheRate(objects)) : 'n/a (1e3 row)';
  const cached = await scoreManyRate(objects, () => ({ cache }));
  const analytic = await scoreManyRate(objects, () => ({ mode: 'analytic' }));
  console.log(`| ${fmt(count)} | ${exactNoCache} | ${fmt(cached)} | ${fmt(analytic)} |`);
}

// ---- 3. CLI pipe
// `zerolm sample | zerolm score` as a user runs it, and each side alone (sample to /dev/null, score from a file), the
// median of several runs. `--baseline DIR` (a checkout of another commit with its dist/ built) runs that build's CLI
// in the same rounds, alternating with this one, so both see the same machine.
const baselineAt = process.argv.indexOf('--baseline');
const baseline = baselineAt > 0 ? process.argv[baselineAt + 1] : undefined;
// `zerolm score` runs JSONL on worker threads by default; `--workers 0` is the same build on one thread.
const defaultWorkers = execSync(`"${process.execPath}" -e "const p = require('${join(root, 'dist/proxy/parallel.js')}'); console.log(p.defaultScoreWorkers(Infinity), p.defaultScoreWorkers())"`).toString().trim().split(' ');
const clis = [
  [`this build (default: ${defaultWorkers[0]} workers for a file, ${defaultWorkers[1]} for a pipe)`, cli, ''],
  ['this build, --workers 2', cli, ' --workers 2'],
  ['this build, --workers 0', cli, ' --workers 0'],
  ...(baseline ? [['baseline', join(baseline, 'dist/cli/main.js'), '']] : []),
];
const runs = quick ? 1 : 3;
console.log(`\n### CLI: zerolm sample nas-bench-bert --count N --seed 3, piped into zerolm score, and each alone; median of ${runs} run(s)\n`);
console.log(`| N | command | build | wall s | architectures/s | peak RSS of the sampler (sample row) or of zerolm score${haveTime ? '' : ' (no /usr/bin/time)'} |`);
console.log('|---|---|---|---|---|---|');
function timedShell(command) {
  const rssFile = join(work, 'rss');
  const started = performance.now();
  execSync(command.replace('@TIMED@', haveTime ? `/usr/bin/time -f %M -o ${rssFile} ` : ''), { stdio: 'inherit', shell: '/bin/bash' });
  const ms = performance.now() - started;
  return { ms, rssMb: haveTime ? Number(execSync(`cat ${rssFile}`).toString().trim()) / 1024 : Number.NaN };
}
const pipeCases = quick ? [[1e5, 'analytic']] : [[1e5, 'exact'], [1e5, 'analytic'], [1e6, 'exact'], [1e6, 'analytic']];
for (const count of [...new Set(pipeCases.map(([n]) => n))]) {
  const sampled = join(work, `sampled-${count}.jsonl`);
  execSync(`"${process.execPath}" "${cli}" sample nas-bench-bert --count ${count} --seed 3 > ${sampled}`, { shell: '/bin/bash' });
  const commands = [
    ['sample', (bin, flags) => (flags ? undefined : `@TIMED@"${process.execPath}" "${bin}" sample nas-bench-bert --count ${count} --seed 3 > /dev/null`)],
    ...pipeCases
      .filter(([n]) => n === count)
      .flatMap(([, mode]) => [
        [`score --mode ${mode} < file`, (bin, flags) => `@TIMED@"${process.execPath}" "${bin}" score --mode ${mode}${flags} < ${sampled} > /dev/null`],
        [`sample \\| score --mode ${mode}`, (bin, flags) => `"${process.execPath}" "${bin}" sample nas-bench-bert --count ${count} --seed 3 | @TIMED@"${process.execPath}" "${bin}" score --mode ${mode}${flags} > /dev/null`],
      ]),
  ];
  for (const [label, command] of commands) {
    const variants = clis.filter(([, bin, flags]) => command(bin, flags) !== undefined);
    const results = new Map(variants.map(([name]) => [name, []]));
    for (let r = 0; r < runs; r++) {
      for (const [name, bin, flags] of r % 2 === 0 ? variants : [...variants].reverse()) results.get(name).push(timedShell(command(bin, flags)));
    }
    for (const [name, times] of results) {
      const ms = median(times.map((t) => t.ms));
      const rss = Math.max(...times.map((t) => t.rssMb));
      console.log(`| ${fmt(count)} | ${label} | ${name} | ${(ms / 1000).toFixed(2)} | ${fmt(rate(count, ms))} | ${Number.isFinite(rss) ? `${rss.toFixed(0)} MB` : 'n/a'} |`);
    }
  }
}

// ---- 4. Exact, fresh weights, full spectra
const benchmark = zerolm.loadBenchmark('nas-bench-bert');
const plans = benchmark.entries.map((e) => toPlan(e.architecture, { family: 'nas-bench-bert', build: 'as-trained' }, e.id));
const matricesOf = (plan) => plan.layers.flatMap((l) => [...l.attention, ...l.ffn]).map((m) => [m.rows, m.cols, m.init.std]);
async function freshExact(subset, threads, mode = 'exact') {
  // A new seed per architecture and the 'position' policy: every matrix of every candidate is a fresh draw, and
  // nothing is cached, as when each candidate model is initialised on its own.
  const started = performance.now();
  let total = 0;
  for (let i = 0; i < subset.length; i++) {
    const [c] = await componentsOfPlans([subset[i]], resolveScoreOptions({ measure: 'effective-rank', seed: i, seedPolicy: 'position', threads, mode }));
    total += c.attention + c.ffn;
  }
  return { ms: performance.now() - started, total };
}
const allMatrices = plans.reduce((n, p) => n + matricesOf(p).length, 0);
console.log(`\n### Exact, fresh random weights, full spectra, no cache: nas-bench-bert as-trained (${allMatrices} matrices in 500 architectures)\n`);
const threads = zerolm.defaultThreads();
// --mode exact generates every weight; --mode bidiagonal draws the same law of spectra from the bidiagonal model.
const rows = [];
for (const mode of ['exact', 'bidiagonal']) {
  for (const t of [1, threads]) rows.push([mode, t, await freshExact(plans, t, mode)]);
}
console.log(`| mode | threads | 500 architectures, s | architectures/s |`);
console.log('|---|---|---|---|');
for (const [mode, t, run] of rows) console.log(`| ${mode} | ${t} | ${(run.ms / 1000).toFixed(2)} | ${(500 / (run.ms / 1000)).toFixed(1)} |`);
const [exactAll] = rows.filter(([mode, t]) => mode === 'exact' && t === threads).map(([, , run]) => run);
const [bidiagonalAll] = rows.filter(([mode, t]) => mode === 'bidiagonal' && t === threads).map(([, , run]) => run);
console.log(`\nbidiagonal / exact, ${threads} threads: ${(exactAll.ms / bidiagonalAll.ms).toFixed(1)}x faster; ` +
  `sum of effective ranks over the 500 architectures: exact ${exactAll.total.toFixed(1)}, bidiagonal ${bidiagonalAll.total.toFixed(1)} ` +
  `(${((bidiagonalAll.total / exactAll.total - 1) * 100).toFixed(3)}%: independent draws of the same law)`);

// Side by side on the same subset (the references are too slow for all 500 in a benchmark run).
const subsetSize = quick ? 5 : 20;
const subset = plans.slice(0, subsetSize);
const ours = await freshExact(subset, 1);
let started = performance.now();
subset.forEach((plan, i) => {
  for (const [rows, cols, std] of matricesOf(plan)) reference.effectiveRank(reference.singularValues(reference.gaussianMatrix(rows, cols, std, i + 1), rows, cols));
});
const plainMs = performance.now() - started;
console.log(`\nSame proxy on the first ${subsetSize} architectures (${subset.reduce((n, p) => n + matricesOf(p).length, 0)} matrices), single thread:\n`);
console.log('| implementation | s | ratio to the addon |');
console.log('|---|---|---|');
console.log(`| zerolm addon (C++/AVX2) | ${(ours.ms / 1000).toFixed(2)} | 1.0 |`);
console.log(`| plain JavaScript, same algorithm | ${(plainMs / 1000).toFixed(2)} | ${(plainMs / ours.ms).toFixed(1)}x slower |`);
const python = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
if (python.status === 0) {
  const shapesFile = join(work, 'shapes.json');
  writeFileSync(shapesFile, JSON.stringify(subset.map(matricesOf)));
  const script = `
import json, sys, time, numpy as np
archs = json.load(open(sys.argv[1]))
def effective_rank(s):
    p = s / s.sum(); p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))
t = time.perf_counter(); total = 0.0
for i, arch in enumerate(archs):
    rng = np.random.default_rng(i)
    for rows, cols, std in arch:
        w = (rng.standard_normal((rows, cols), dtype=np.float32) * np.float32(std))
        total += effective_rank(np.linalg.svd(w, compute_uv=False).astype(np.float64))
print(time.perf_counter() - t)
`;
  const env = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const run = spawnSync('python3', ['-c', script, shapesFile], { encoding: 'utf8', env });
  const seconds = Number(run.stdout.trim());
  if (run.status === 0 && Number.isFinite(seconds)) {
    console.log(`| python3 + numpy (svd, OpenBLAS 1 thread) | ${seconds.toFixed(2)} | ${((seconds * 1000) / ours.ms).toFixed(1)}x slower |`);
  } else console.log(`| python3 + numpy | failed: ${run.stderr.split('\n').slice(-2).join(' ')} | |`);
} else console.log('| python3 + numpy | not available | |');
