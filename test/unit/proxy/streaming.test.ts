/**
 * The one streaming contract of scoreMany, scoreBatches and scoreJsonLines (src/proxy/many.ts): N inputs give N
 * records in input order, error records included; the same progress object; the same refusals; the same abort.
 */
import { Readable } from 'node:stream';
import { readStream, type InputRecord } from '../../../src/io/input';
import { isScoreError, scoreBatches, scoreMany, type ScoreManyOptions, type ScoreRecord } from '../../../src/proxy/many';
import { scoreJsonLines } from '../../../src/proxy/parallel';
import { ScoreSerializer } from '../../../src/proxy/serialize';
import type { Progress } from '../../../src/progress';
import { zerolmRejectionOf } from '../../helpers/zerolm-error';
import { toyEntry } from './fixtures';

const layer = (heads: number, width: number): Record<string, unknown> => ({ operation_type: 'SA', operation_parameter: 'SDP', num_operation_heads: heads, feed_forward_dimension: width, num_feed_forward: 1 });
const good = (id: string, hidden: number, layers: number): string => JSON.stringify({ id, hidden_size: hidden, nas_config: { encoder_layers: Array.from({ length: layers }, (_, i) => layer(2 << (i % 2), 256 * (i + 1))) } });
// Ten lines: seven architectures, a broken line, a negative width, a JSON array; and a blank line that is no input.
const lines = [good('a', 128, 2), '{"id":"broken"', good('b', 256, 3), JSON.stringify({ ...toyEntry, id: 'neg', hidden_size: -4 }), good('c', 128, 4), '', '[1,2]', good('d', 512, 2), good('e', 256, 1), good('f', 128, 6), good('g', 256, 2)];
const text = `${lines.join('\n')}\n`;
const inputCount = lines.filter((line) => line.trim() !== '').length;
const options: ScoreManyOptions = { mode: 'analytic', batchSize: 3 };

const recordsOf = (): AsyncIterable<InputRecord> => readStream(Readable.from([Buffer.from(text)]), 'in.jsonl', 'jsonl');
async function inputRecords(): Promise<InputRecord[]> {
  const all: InputRecord[] = [];
  for await (const record of recordsOf()) all.push(record);
  return all;
}

const serializer = new ScoreSerializer();
const linesOf = (records: readonly ScoreRecord[]): string[] => records.map((record) => serializer.line(record));

interface Run {
  lines: string[];
  progress: Progress[];
}

async function viaMany(extra: Partial<ScoreManyOptions> = {}, inputs?: unknown): Promise<Run> {
  const progress: Progress[] = [];
  const records: ScoreRecord[] = [];
  for await (const record of scoreMany((inputs ?? recordsOf()) as AsyncIterable<unknown>, { ...options, onProgress: (p) => progress.push(p), ...extra })) records.push(record);
  return { lines: linesOf(records), progress };
}

async function viaBatches(extra: Partial<ScoreManyOptions> = {}, inputs?: unknown): Promise<Run> {
  const all = await inputRecords();
  const batches = inputs ?? [all.slice(0, 4), all.slice(4, 5), all.slice(5)];
  const progress: Progress[] = [];
  const records: ScoreRecord[] = [];
  for await (const batch of scoreBatches(batches as InputRecord[][], { ...options, onProgress: (p) => progress.push(p), ...extra })) records.push(...batch);
  return { lines: linesOf(records), progress };
}

async function viaJsonLines(extra: Partial<ScoreManyOptions> = {}, inputs?: unknown): Promise<Run> {
  const progress: Progress[] = [];
  const out: string[] = [];
  // Cut mid-line on purpose: chunks are bytes, not lines.
  const chunks = inputs ?? [text.slice(0, 100), text.slice(100, 500), text.slice(500)];
  for await (const scores of scoreJsonLines(chunks as string[], 'in.jsonl', { ...options, workers: 0, unitBytes: 256, onProgress: (p) => progress.push(p), ...extra })) {
    out.push(...scores.jsonl.toString('utf8').split('\n').slice(0, -1));
  }
  return { lines: out, progress };
}

const runs: Array<[string, (extra?: Partial<ScoreManyOptions>, inputs?: unknown) => Promise<Run>]> = [
  ['scoreMany', viaMany],
  ['scoreBatches', viaBatches],
  ['scoreJsonLines', viaJsonLines],
];

describe('one streaming contract', () => {
  let reference: string[];
  beforeAll(async () => {
    // The reference: each input scored through scoreMany alone, one stream per input.
    reference = [];
    for (const record of await inputRecords()) reference.push(...(await viaMany({}, [record])).lines);
  });

  it.each(runs)('%s: N inputs give N records, in input order, the same records as one at a time', async (_, run) => {
    const { lines: got } = await run();
    expect(got).toHaveLength(inputCount);
    expect(got).toEqual(reference);
    const errors = got.map((line) => JSON.parse(line)).filter((record) => record.error !== undefined);
    expect(errors.map((record) => record.line)).toEqual([2, 4, 7]);
  });

  it.each(runs)('%s: progress is {done, errors}, done rising to N and errors to the error records', async (_, run) => {
    const { lines: got, progress } = await run();
    const errorCount = got.filter((line) => isScoreError(JSON.parse(line))).length;
    expect(errorCount).toBe(3);
    expect(progress.length).toBeGreaterThan(1);
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i].done).toBeGreaterThan(progress[i - 1].done);
      expect(progress[i].errors).toBeGreaterThanOrEqual(progress[i - 1].errors);
    }
    expect(progress.at(-1)).toMatchObject({ done: inputCount, errors: errorCount });
  });

  it('total is the number of inputs when they come as an array, absent otherwise', async () => {
    const all = await inputRecords();
    expect((await viaMany({}, all)).progress.every((p) => p.total === inputCount)).toBe(true);
    expect((await viaBatches()).progress.every((p) => p.total === inputCount)).toBe(true);
    expect((await viaMany()).progress.every((p) => p.total === undefined)).toBe(true);
    expect((await viaJsonLines()).progress.every((p) => p.total === undefined)).toBe(true);
  });

  it.each(runs)('%s: refuses a non-iterable input and a non-function onProgress with E_ARGUMENT', async (_, run) => {
    for (const input of [42, 'a string', null]) {
      const error = await zerolmRejectionOf(() => run({}, input === null ? { notIterable: true } : input));
      expect(error.code).toBe('E_ARGUMENT');
    }
    const error = await zerolmRejectionOf(() => run({ onProgress: 'not a function' as never }));
    expect(error.code).toBe('E_ARGUMENT');
    expect(error.location?.field).toBe('onProgress');
  });

  it.each(runs)('%s: an exception from onProgress comes back as E_ARGUMENT, its cause kept', async (_, run) => {
    const cause = new Error('progress bar broke');
    const error = await zerolmRejectionOf(() =>
      run({
        onProgress: () => {
          throw cause;
        },
      }),
    );
    expect(error.code).toBe('E_ARGUMENT');
    expect(error.cause).toBe(cause);
  });

  it.each(runs)('%s: an aborted signal stops the stream with E_ABORTED', async (_, run) => {
    const error = await zerolmRejectionOf(() => run({ signal: AbortSignal.abort() }));
    expect(error.code).toBe('E_ABORTED');
  });
});
