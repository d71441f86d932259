/**
 * Body of a worker thread of scoreJsonLines (parallel.ts): scores the units of lines it is sent, one after another,
 * and replies with their JSONL bytes (transferred, not copied). On 'finish' it sends back its cache and ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { recordsOfLineUnit } from '../io/input';
import { internalError } from '../errors';
import { CapacityCache } from './cache';
import { ScoreEncoder, type ScoreWorkerData, type ScoreWorkerReply, type ScoreWorkerRequest } from './parallel';
import { resolveScoreOptions } from './score';

const port = parentPort;
if (port === null) throw new Error('score-worker.js runs only as a worker thread');
const data = workerData as ScoreWorkerData;
const cache = new CapacityCache(data.cacheMaxEntries);
for (const [key, value] of data.cacheEntries) cache.set(key, value);
const resolved = resolveScoreOptions({ ...data.options, cache });
const encoder = new ScoreEncoder();

// Units are scored strictly one after another, in the order they came.
let previous: Promise<void> = Promise.resolve();
port.on('message', (request: ScoreWorkerRequest) => {
  previous = previous.then(() => handle(request));
});

async function handle(request: ScoreWorkerRequest): Promise<void> {
  if (request.kind === 'finish') {
    const reply: ScoreWorkerReply = { kind: 'finished', cacheEntries: [...cache] };
    port!.postMessage(reply);
    port!.close();
    return;
  }
  try {
    const records = recordsOfLineUnit(request.unit, request.source);
    const { jsonl, errors, count, warnings } = await encoder.encode(records, resolved, data.batchSize);
    const reply: ScoreWorkerReply = { kind: 'unit', id: request.id, jsonl, errors, count, ...(warnings === undefined ? {} : { warnings }) };
    port!.postMessage(reply, [jsonl.buffer as ArrayBuffer]);
  } catch (cause) {
    const error = internalError(cause);
    const reply: ScoreWorkerReply = { kind: 'failed', id: request.id, error: error.toJSON() };
    port!.postMessage(reply);
  }
}
