/**
 * scoreJsonLines (JSONL scored on worker threads) against the plain path: scoreMany over readStream, each record
 * serialised. Units are made small, and the input is said to be long, so that most units go to the workers.
 */
import { Readable } from 'node:stream';
import { readStream } from '../../../src/io/input';
import { CapacityCache } from '../../../src/proxy/cache';
import { isScoreError, scoreMany, type ScoreRecord } from '../../../src/proxy/many';
import { pipeWorkersPay, scoreJsonLines, type EncodedScores, type ScoreJsonLinesOptions } from '../../../src/proxy/parallel';
import { ScoreSerializer } from '../../../src/proxy/serialize';
import type { Progress } from '../../../src/progress';
import { sampleSpaceLines } from '../../../src/search/sample';
import { zerolmRejectionOf } from '../../helpers/zerolm-error';
import { settleThreadCount, threadCount } from '../native/hostile-helpers';

/** Sampled lines with, every so often, a line that is blank, broken, or not a valid architecture. */
function mixedInput(count: number): string {
  const odd = ['', '  ', '{"id":"broken"', '{"id":"neg","hidden_size":-4,"nas_config":{"encoder_layers":[]}}', '[1,2]', '{"id":"crlf","hidden_size":256,"nas_config":{"encoder_layers":[{"operation_type":"SA","operation_parameter":"sdp","num_operation_heads":4,"feed_forward_dimension":512,"num_feed_forward":1}]}}\r'];
  const lines: string[] = [];
  let i = 0;
  for (const line of sampleSpaceLines('nas-bench-bert', { count, seed: 9 })) {
    lines.push(line);
    if (++i % 37 === 0) lines.push(odd[(i / 37) % odd.length]);
  }
  return `${lines.join('\n')}\n`;
}

const chunksOf = (text: string, size: number): Buffer[] => {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return chunks;
};

async function plain(text: string, options: ScoreJsonLinesOptions): Promise<{ jsonl: string; errors: ScoreRecord[]; cache: CapacityCache }> {
  const cache = new CapacityCache();
  const serializer = new ScoreSerializer();
  let jsonl = '';
  const errors: ScoreRecord[] = [];
  for await (const record of scoreMany(readStream(Readable.from(chunksOf(text, 4096)), 'in.jsonl', 'jsonl'), { ...options, cache })) {
    jsonl += `${serializer.line(record)}\n`;
    if (isScoreError(record)) errors.push(record);
  }
  return { jsonl, errors, cache };
}

async function parallel(text: string, options: ScoreJsonLinesOptions): Promise<{ jsonl: string; errors: ScoreRecord[]; yielded: EncodedScores[] }> {
  const yielded: EncodedScores[] = [];
  for await (const scores of scoreJsonLines(Readable.from(chunksOf(text, 4096)), 'in.jsonl', options)) yielded.push(scores);
  return { jsonl: Buffer.concat(yielded.map((s) => s.jsonl)).toString('utf8'), errors: yielded.flatMap((s) => s.errors), yielded };
}

/** A size hint that makes the workers start at once (as a long file would), so that small test inputs reach them. */
const LONG = 1 << 30;

describe('scoreJsonLines', () => {
  const text = mixedInput(1500);

  it.each([
    ['analytic, two workers', { mode: 'analytic', workers: 2 }],
    ['exact (engine in the workers), one worker', { mode: 'exact', measure: 'mean-sq-sv', workers: 1 }],
    ['bidiagonal, log-det, three workers', { mode: 'bidiagonal', measure: 'log-det', workers: 3 }],
    ['analytic on this thread only (workers 0)', { mode: 'analytic', workers: 0 }],
    // Sampled lines become plans straight from the builder's memo: for every build, and only for this family.
    ['as-specified, per head, exact, on this thread', { build: 'as-specified', perHead: true, mode: 'exact', workers: 0 }],
    ['lpzero with the family named, analytic, two workers', { family: 'nas-bench-bert', build: 'lpzero', mode: 'analytic', workers: 2 }],
    ['another family named: every line an error record', { family: 'gpt2-flex', mode: 'analytic', workers: 1 }],
  ] as Array<[string, ScoreJsonLinesOptions]>)('%s: byte for byte the plain path\'s lines, errors included', async (_name, options) => {
    const expected = await plain(text, options);
    const actual = await parallel(text, { ...options, unitBytes: 8192, sizeHint: LONG });
    expect(actual.yielded.length).toBeGreaterThan(20); // many units: most of them went to the workers
    expect(actual.jsonl).toBe(expected.jsonl);
    expect(actual.errors).toEqual(expected.errors);
    expect(expected.errors.length).toBeGreaterThan(20);
    expect(actual.yielded.reduce((sum, s) => sum + s.count, 0)).toBe(expected.jsonl.split('\n').length - 1);
  });

  it('fills the caller\'s cache with what the workers computed: the plain path\'s entries, bit for bit', async () => {
    const options: ScoreJsonLinesOptions = { mode: 'exact', measure: 'mean-sq-sv', workers: 2, unitBytes: 8192, sizeHint: LONG };
    const expected = await plain(text, options);
    const cache = new CapacityCache();
    const first = await parallel(text, { ...options, cache });
    expect(new Map(cache)).toEqual(new Map(expected.cache));
    expect(cache.size).toBeGreaterThan(5);
    // A warm cache gives the same bytes again.
    expect((await parallel(text, { ...options, cache })).jsonl).toBe(first.jsonl);
  });

  it('reports progress in input order, ending at the number of records; the workers are running meanwhile', async () => {
    const progress: number[] = [];
    const reports: Progress[] = [];
    const baseline = threadCount();
    let threadsSeen = 0;
    const result = await parallel(text, {
      mode: 'analytic', workers: 2, unitBytes: 8192, sizeHint: LONG,
      onProgress: (report) => {
        progress.push(report.done);
        reports.push(report);
        threadsSeen = Math.max(threadsSeen, threadCount());
      },
    });
    expect(threadsSeen).toBeGreaterThanOrEqual(baseline + 2);
    const total = result.yielded.reduce((sum, s) => sum + s.count, 0);
    expect(progress).toHaveLength(result.yielded.length);
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThan(progress[i - 1]);
    expect(progress.at(-1)).toBe(total);
    // Error records counted as they come; no total: a stream's lines are counted as they are read.
    expect(reports.at(-1)).toEqual({ done: total, errors: result.yielded.reduce((sum, s) => sum + s.errors.length, 0) });
  });

  it('stops on an abort with E_ABORTED, and a consumer that stops early leaves no worker thread behind', async () => {
    const baseline = threadCount();
    const controller = new AbortController();
    const aborted = await zerolmRejectionOf(async () => {
      for await (const _ of scoreJsonLines(Readable.from(chunksOf(text, 4096)), 'in.jsonl', { mode: 'analytic', workers: 2, unitBytes: 4096, sizeHint: LONG, signal: controller.signal })) controller.abort();
    });
    expect(aborted.code).toBe('E_ABORTED');
    let taken = 0;
    for await (const _ of scoreJsonLines(Readable.from(chunksOf(text, 4096)), 'in.jsonl', { mode: 'analytic', workers: 2, unitBytes: 4096, sizeHint: LONG })) if (++taken === 5) break;
    expect(await settleThreadCount(baseline, 5000)).toBeLessThanOrEqual(baseline);
  });

  it('refuses a bad worker count, naming the option', async () => {
    for (const workers of [-1, 1.5, 65]) {
      const error = await zerolmRejectionOf(async () => {
        for await (const _ of scoreJsonLines(Readable.from([Buffer.from('{}\n')]), 'in.jsonl', { workers })) void _;
      });
      expect(error.code).toBe('E_ARGUMENT');
      expect(error.location?.field).toBe('workers');
    }
  });
});

describe("a pipe's default workers start only where they pay", () => {
  test('not before a second of scoring here', () => {
    expect(pipeWorkersPay(900, 950, 1000, 10_000)).toBe(false);
  });
  test('when this process keeps a core busy on lines that cost enough: yes', () => {
    // 1.2 s scoring, 1.25 s of CPU in 1.3 s, 50,000 lines: 24 us a line.
    expect(pipeWorkersPay(1200, 1250, 1300, 50_000)).toBe(true);
  });
  test('when the producer is the bottleneck (this process mostly waits for it): no', () => {
    expect(pipeWorkersPay(1200, 1300, 3000, 50_000)).toBe(false);
  });
  test('when lines are cheap to score here (4 us each): no, however busy', () => {
    expect(pipeWorkersPay(1200, 1250, 1250, 300_000)).toBe(false);
  });
});
