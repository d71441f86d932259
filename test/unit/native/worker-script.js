'use strict';
// Body of the worker threads started by workers.test.ts and worker-lifecycle.js. It loads the plain-JS build of
// src/native.ts (workerData.modulePath; ZEROLM_NATIVE_PATH names the binary) and does one task:
// - 'compare': spectraSync and spectra of workerData.jobs; posts both result lists back.
// - 'long': a batch of workerData.count 600 x 600 jobs; posts 'running' at the first progress report. With
//   workerData.exitOnProgress it calls process.exit(0) from inside that report, with the batch still in flight.
// - 'spam': workerData.count one-job batches started back to back, none awaited.
const { parentPort, workerData } = require('worker_threads');

const native = require(workerData.modulePath);

if (workerData.task === 'compare') {
  const sync = native.spectraSync(workerData.jobs, { threads: 2 });
  native.spectra(workerData.jobs, { threads: 2 }).then(
    (async) => parentPort.postMessage({ sync, async }),
    (error) => parentPort.postMessage({ error: `${error.code}: ${error.message}` }),
  );
} else if (workerData.task === 'long') {
  const jobs = Array.from({ length: workerData.count }, (_, i) => ({
    rows: 600, cols: 600, init: { distribution: 'normal', std: 1 }, seed: workerData.seed ?? 1, stream: i,
  }));
  let reported = false;
  native.spectra(jobs, {
    threads: workerData.threads ?? 2,
    onProgress: () => {
      if (reported) return;
      reported = true;
      parentPort.postMessage('running');
      if (workerData.exitOnProgress) process.exit(0);
    },
  }).then(() => parentPort.postMessage('finished'), (error) => parentPort.postMessage(`failed ${error.code}`));
  parentPort.postMessage('queued');
} else if (workerData.task === 'spam') {
  // Starts small batches back to back without awaiting them, so that a terminate() from outside most likely
  // lands while the addon is setting one up.
  const jobs = [{ rows: 8, cols: 6, init: { distribution: 'normal', std: 1 }, seed: 3, stream: 0 }];
  parentPort.postMessage('queued');
  for (let i = 0; i < workerData.count; i++) native.spectra(jobs, { threads: 1, onProgress: () => {} }).catch(() => {});
} else {
  throw new Error(`unknown task ${workerData.task}`);
}
