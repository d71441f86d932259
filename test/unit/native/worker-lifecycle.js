'use strict';
// Child-process driver for workers.test.ts: worker threads that end while a batch is in flight. A crash of the
// addon at worker teardown kills this process, which the test then reports with its signal.
// Usage: node worker-lifecycle.js <scenario> <modulePath>; prints one JSON line.
//   terminate-in-flight  two workers, each with seconds of work running, are terminated
//   exit-in-flight       two workers call process.exit(0) from a progress report, batch still running
//   terminate-queued     a worker is terminated as soon as its batch is queued
//   churn                twelve workers, four at a time, terminated after seeded delays of 0-60 ms
//   churn-early          sixty workers, six at a time, each starting small batches back to back, terminated 0-15 ms
//                        in: most are stopped while the addon sets a batch up, which is where a half-built batch
//                        was once freed while Node still held it (a heap-use-after-free that test:asan reports)
const { readdirSync } = require('fs');
const path = require('path');
const { Worker } = require('worker_threads');

const [scenario, modulePath] = process.argv.slice(2);
const native = require(modulePath);
const script = path.join(__dirname, 'worker-script.js');

const threadCount = () => readdirSync('/proc/self/task').length;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function settle(target, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let count = threadCount();
  while (count > target && Date.now() < deadline) {
    await sleep(10);
    count = threadCount();
  }
  return count;
}

const probe = [
  { rows: 37, cols: 23, init: { distribution: 'normal', std: 1 }, seed: 9, stream: 1 },
  { rows: 60, cols: 61, init: { distribution: 'uniform', bound: 1 }, seed: 9, stream: 2, route: 'top' },
];
const fingerprint = (results) => JSON.stringify(results.map((r) => ({ ...r, singularValues: r.singularValues && Array.from(r.singularValues) })));

function start(workerData) {
  const worker = new Worker(script, { workerData: { modulePath, ...workerData } });
  const messages = [];
  const waiters = [];
  worker.on('message', (message) => {
    messages.push(message);
    for (const waiter of waiters.splice(0)) waiter();
  });
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  const errored = new Promise((resolve) => worker.once('error', (error) => resolve(String(error))));
  const until = async (message) => {
    while (!messages.includes(message)) await new Promise((resolve) => waiters.push(resolve));
  };
  return { worker, messages, exited, errored, until };
}

// mulberry32, as in fixtures.ts
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function main() {
  // Warm the engine, its persistent pool and the libuv pool so that the baseline counts their threads.
  await native.spectra(probe, { threads: 2 });
  const wide = native.concurrency();
  const job = { rows: 300, cols: 300, init: { distribution: 'normal', std: 1 }, seed: 1, stream: 1 };
  native.spectraSync([job], { threads: wide });
  native.spectraSync(Array.from({ length: 2 * wide }, (_, i) => ({ ...job, rows: 40, cols: 30, stream: i })), { threads: wide });
  const before = fingerprint(native.spectraSync(probe, { threads: 1 }));
  await sleep(50);
  const baseline = threadCount();
  const report = { scenario, baseline };

  if (scenario === 'terminate-in-flight') {
    const workers = [start({ task: 'long', count: 150, seed: 1 }), start({ task: 'long', count: 150, seed: 2 })];
    await Promise.all(workers.map((w) => w.until('running')));
    report.during = threadCount();
    const started = Date.now();
    report.exitCodes = await Promise.all(workers.map((w) => w.worker.terminate()));
    report.terminateMs = Date.now() - started;
    report.messages = workers.map((w) => w.messages.filter((m) => m !== 'queued' && m !== 'running'));
  } else if (scenario === 'exit-in-flight') {
    const workers = [start({ task: 'long', count: 150, exitOnProgress: true }), start({ task: 'long', count: 150, exitOnProgress: true, seed: 2 })];
    await Promise.all(workers.map((w) => w.until('running')));
    const started = Date.now();
    report.exitCodes = await Promise.all(workers.map((w) => w.exited));
    report.terminateMs = Date.now() - started;
  } else if (scenario === 'terminate-queued') {
    const one = start({ task: 'long', count: 150 });
    await one.until('queued');
    const started = Date.now();
    report.exitCodes = [await one.worker.terminate()];
    report.terminateMs = Date.now() - started;
  } else if (scenario === 'churn' || scenario === 'churn-early') {
    const early = scenario === 'churn-early';
    const [rounds, perRound, maxDelayMs] = early ? [10, 6, 15] : [3, 4, 60];
    const random = seededRandom(early ? 7 : 2024);
    report.exitCodes = [];
    let slowest = 0;
    for (let round = 0; round < rounds; round++) {
      const workers = Array.from({ length: perRound }, (_, i) => start(early ? { task: 'spam', count: 100000 } : { task: 'long', count: 40, seed: round * 4 + i, threads: 1 + (i % 2) }));
      await Promise.all(workers.map(async (w) => {
        if (early) await w.until('queued');
        else await new Promise((resolve) => w.worker.once('online', resolve));
        await sleep(Math.floor(random() * maxDelayMs));
        const started = Date.now();
        report.exitCodes.push(await w.worker.terminate());
        slowest = Math.max(slowest, Date.now() - started);
      }));
    }
    report.terminateMs = slowest;
  } else {
    throw new Error(`unknown scenario ${scenario}`);
  }

  report.after = await settle(baseline, 2000);
  report.probeSame = fingerprint(await native.spectra(probe, { threads: 2 })) === before;
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
