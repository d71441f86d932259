import { parseSampledLine, sampledLineParser } from '../../../src/search/sampled-lines';
import { sampleSpaceLines } from '../../../src/search/sample';
import { damagedLines } from '../../helpers/damaged-lines';
import { buildPlan, clearBuildMemo, type BuildName, type ModelPlan } from '../../../src/arch';
import { setMemoLimit } from '../../../src/arch/memo';
import { isModelPlan } from '../../../src/proxy/score';
import * as native from '../../../src/native';

/** What the reader does with a line: JSON.parse, or nothing when that throws. */
function jsonParse(text: string): { value?: unknown; threw: boolean } {
  try {
    return { value: JSON.parse(text), threw: false };
  } catch {
    return { threw: true };
  }
}

const parseText = (text: string): unknown => {
  const bytes = Buffer.from(text, 'utf8');
  return parseSampledLine(bytes, 0, bytes.length);
};

describe('parseSampledLine', () => {
  it('reads every line the sampler writes exactly as JSON.parse does', () => {
    const lines = [...sampleSpaceLines('nas-bench-bert', { count: 3000, seed: 11 })];
    for (const line of lines) {
      const value = parseText(line);
      expect(value).toBeDefined();
      expect(value).toStrictEqual(JSON.parse(line));
      // Same keys in the same order at every level: a re-serialisation is the very line.
      expect(JSON.stringify(value)).toBe(line);
    }
  });

  it('reads a line in place, in the middle of a larger buffer', () => {
    const lines = [...sampleSpaceLines('nas-bench-bert', { count: 20, seed: 2 })];
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    let start = 0;
    for (const line of lines) {
      const end = bytes.indexOf(10, start);
      expect(parseSampledLine(bytes, start, end)).toStrictEqual(JSON.parse(line));
      start = end + 1;
    }
  });

  it('leaves every other form to JSON.parse', () => {
    const line = [...sampleSpaceLines('nas-bench-bert', { count: 1, seed: 4 })][0];
    const others = [
      ` ${line}`,
      `${line} `,
      `${line}\r`,
      line.replace('{"id":', '{ "id":'),
      line.replace('"hidden_size":', '"hidden_size": '),
      line.replace(/"hidden_size":\d+/, '"hidden_size":0128'),
      line.replace(/"hidden_size":\d+/, '"hidden_size":-128'),
      line.replace(/"hidden_size":\d+/, '"hidden_size":128.0'),
      line.replace(/"hidden_size":\d+/, '"hidden_size":1e3'),
      line.replace(/"hidden_size":\d+/, '"hidden_size":1234567890123456'),
      line.replace(/"hidden_size":\d+/, '"hidden_size":"128"'),
      line.replace('"id":"nas-bench-bert-0"', '"id":"nas\\u002dbench"'),
      line.replace('"id":"nas-bench-bert-0"', '"id":"caf\u00e9"'),
      line.replace('"id":"nas-bench-bert-0"', '"id":7'),
      line.replace('"num_feed_forward":', '"num_feed_forwards":'),
      line.replace('{"id":"nas-bench-bert-0",', '{'),
      line.replace('"encoder_layers":[', '"encoder_layers":[],"x":['),
      line.replace(']}}', ']},"extra":1}'),
      line.replace(']}}', ']}'),
      line.slice(0, -1),
      line.slice(0, line.length / 2),
      '{"id":"a","hidden_size":128,"nas_config":{"encoder_layers":[]}}',
      '',
      '{}',
      '[1]',
    ];
    for (const text of others) {
      expect(text).not.toBe(line);
      expect(parseText(text)).toBeUndefined();
    }
  });

  it('on randomly damaged lines, returns either nothing or what JSON.parse returns', () => {
    const lines = [...sampleSpaceLines('nas-bench-bert', { count: 200, seed: 8 })];
    let recognised = 0;
    for (const text of damagedLines(lines, 20000, 5)) {
      const expected = jsonParse(text);
      const value = parseText(text);
      if (value === undefined) continue;
      recognised++;
      expect(expected.threw).toBe(false);
      expect(value).toStrictEqual(expected.value);
    }
    // Some damage keeps the canonical form (a digit for a digit, a letter inside a name): those must be read too.
    expect(recognised).toBeGreaterThan(100);
  });

  it('refuses ranges outside the buffer', () => {
    const bytes = Buffer.from([...sampleSpaceLines('nas-bench-bert', { count: 1, seed: 1 })][0]);
    expect(parseSampledLine(bytes, 0, bytes.length + 1)).toBeUndefined();
    expect(parseSampledLine(bytes, -1, bytes.length)).toBeUndefined();
  });
});

/** What the scorer makes of a line without the fast reader: JSON.parse, then the builder (or its error). */
function builtFromJson(text: string, options: { family?: 'nas-bench-bert' | 'gpt2-flex'; build?: BuildName }): { plan?: ModelPlan; error?: string } {
  const value = JSON.parse(text) as { id?: unknown };
  try {
    return { plan: buildPlan(value, { ...options, id: typeof value.id === 'string' ? value.id : undefined }) };
  } catch (cause) {
    return { error: (cause as Error).message };
  }
}

describe('sampledLineParser', () => {
  const read = (parser: ReturnType<typeof sampledLineParser>, text: string): unknown => {
    const bytes = Buffer.from(text, 'utf8');
    return parser(bytes, 0, bytes.length);
  };
  beforeEach(() => clearBuildMemo());
  afterAll(() => clearBuildMemo());

  it.each<BuildName | undefined>(['as-trained', 'as-specified', 'lpzero', undefined])('gives the builder\'s own plan, shared layers and all, once the memo holds it (build %s)', (build) => {
    const lines = [...sampleSpaceLines('nas-bench-bert', { count: 2000, seed: 21 })];
    const parser = sampledLineParser({ build });
    // Cold memo: nothing is memoised yet, so the first line comes back as its object.
    expect(read(parser, lines[0])).toStrictEqual(JSON.parse(lines[0]));
    let plans = 0;
    for (const line of lines) {
      const value = read(parser, line);
      const built = builtFromJson(line, { build }); // memoises what it builds
      expect(built.plan).toBeDefined();
      if (!isModelPlan(value)) {
        expect(value).toStrictEqual(JSON.parse(line));
        continue;
      }
      plans++;
      expect(value).toStrictEqual(built.plan);
      value.layers.forEach((layer, i) => expect(layer).toBe(built.plan?.layers[i]));
    }
    // The space's layers repeat: after the first few hundred lines nearly every line is read straight to its plan.
    expect(plans).toBeGreaterThan(lines.length / 2);
    for (const line of lines) expect(read(parser, line)).toStrictEqual(builtFromJson(line, { build }).plan);
  });

  it('never gives a plan for another family, an unknown build, or a line the builder refuses', () => {
    const lines = [...sampleSpaceLines('nas-bench-bert', { count: 300, seed: 3 })];
    for (const line of lines) builtFromJson(line, {});
    for (const options of [{ family: 'gpt2-flex' }, { build: 'as-dreamt' }]) {
      const parser = sampledLineParser(options);
      for (const line of lines) expect(read(parser, line)).toStrictEqual(JSON.parse(line));
    }
    const parser = sampledLineParser({});
    expect(isModelPlan(read(parser, lines[0]))).toBe(true);
    // Three heads do not divide the hidden size: the builder refuses the layer, so the memo never holds it.
    const refused = lines[0].replace(/"num_operation_heads":\d+/, '"num_operation_heads":3');
    expect(builtFromJson(refused, {}).error).toMatch(/num_operation_heads/);
    expect(read(parser, refused)).toStrictEqual(JSON.parse(refused));
    // Fields the builder checks but the memo key leaves out (an as-trained FFN width with one FFN layer).
    const zeroWidth = '{"id":"z","hidden_size":256,"nas_config":{"encoder_layers":[{"operation_type":"SA","operation_parameter":"SDP","num_operation_heads":2,"feed_forward_dimension":0,"num_feed_forward":1}]}}';
    builtFromJson(zeroWidth.replace('"feed_forward_dimension":0', '"feed_forward_dimension":512'), {});
    expect(builtFromJson(zeroWidth, {}).error).toMatch(/feed_forward_dimension/);
    expect(read(parser, zeroWidth)).toStrictEqual(JSON.parse(zeroWidth));
    // lpzero builds every line at hidden 256, so its memo cannot vouch for the hidden size the line gives.
    const lpzero = sampledLineParser({ build: 'lpzero' });
    builtFromJson(lines[0], { build: 'lpzero' });
    expect(isModelPlan(read(lpzero, lines[0]))).toBe(true);
    for (const hidden of ['0', '2000000', '-256']) {
      const line = lines[0].replace(/"hidden_size":\d+/, `"hidden_size":${hidden}`);
      expect(builtFromJson(line, { build: 'lpzero' }).error).toMatch(/hidden_size/);
      expect(isModelPlan(read(lpzero, line))).toBe(false);
    }
  });

  it('reads a buffer announced with startBuffer (scanned whole by the addon) as it reads each line alone', () => {
    const lines = [...sampleSpaceLines('nas-bench-bert', { count: 3000, seed: 23 })];
    const mixed = lines.map((line, i) => (i % 13 === 4 ? line.replace('"hidden_size":', '"hidden_size": ') : i % 29 === 3 ? '' : line));
    const bytes = Buffer.from(`${mixed.join('\n')}\n`);
    const whole = sampledLineParser({});
    const alone = sampledLineParser({});
    const readAlone = (start: number, end: number): unknown => alone(Buffer.from(bytes.subarray(start, end)), 0, end - start);
    for (let pass = 0; pass < 2; pass++) {
      // First pass with a cold memo (objects), second with a warm one (plans).
      whole.startBuffer?.(bytes);
      let start = 0;
      for (let i = 0; i < mixed.length; i++) {
        const end = bytes.indexOf(10, start);
        expect(whole(bytes, start, end)).toStrictEqual(readAlone(start, end));
        builtFromJson(lines[i], {});
        start = end + 1;
      }
    }
    // One call of the addon for the whole buffer, none per line.
    const calls = jest.spyOn(native, 'scanSampledLines');
    try {
      whole.startBuffer?.(bytes);
      let start = 0;
      for (let i = 0; i < mixed.length; i++, start = bytes.indexOf(10, start) + 1) whole(bytes, start, bytes.indexOf(10, start));
      expect(calls).toHaveBeenCalledTimes(1);
      readAlone(0, bytes.indexOf(10));
      expect(calls).toHaveBeenCalledTimes(2);
    } finally {
      calls.mockRestore();
    }
    // Lines asked for out of the addon's order, or ranges that are not its lines, are scanned alone: same answers.
    whole.startBuffer?.(bytes);
    const second = bytes.indexOf(10) + 1;
    const third = bytes.indexOf(10, second) + 1;
    expect(whole(bytes, second, third - 1)).toStrictEqual(readAlone(second, third - 1));
    expect(whole(bytes, 0, second - 1)).toStrictEqual(readAlone(0, second - 1));
    expect(whole(bytes, 1, second - 1)).toBeUndefined();
    expect(whole(bytes, third, bytes.indexOf(10, third))).toStrictEqual(readAlone(third, bytes.indexOf(10, third)));
  });

  it('falls back to objects when the memo is dropped under it', () => {
    const lines = [...sampleSpaceLines('nas-bench-bert', { count: 400, seed: 9 })];
    const previous = setMemoLimit(50);
    try {
      const parser = sampledLineParser({});
      for (const line of lines) {
        const value = read(parser, line);
        const built = builtFromJson(line, {});
        expect(isModelPlan(value) ? value : built.plan).toStrictEqual(built.plan);
        if (!isModelPlan(value)) expect(value).toStrictEqual(JSON.parse(line));
      }
    } finally {
      setMemoLimit(previous);
    }
  });

  it('on randomly damaged lines, gives nothing, what JSON.parse gives, or the plan the builder gives', () => {
    const lines = [...sampleSpaceLines('nas-bench-bert', { count: 200, seed: 8 })];
    for (const line of lines) builtFromJson(line, {});
    const parser = sampledLineParser({});
    let planned = 0;
    for (const text of damagedLines(lines, 20000, 15, { maxEdits: 1 })) {
      const value = read(parser, text);
      if (value === undefined) continue;
      if (isModelPlan(value)) {
        planned++;
        expect(value).toStrictEqual(builtFromJson(text, {}).plan);
      } else {
        expect(value).toStrictEqual(JSON.parse(text));
      }
    }
    // A digit for a digit in an id, or a field changed to another value the memo holds, keeps a line plannable.
    expect(planned).toBeGreaterThan(100);
  });
});
