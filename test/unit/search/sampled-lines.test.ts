import { parseSampledLine } from '../../../src/search/sampled-lines';
import { sampleSpaceLines } from '../../../src/search/sample';
import { seededRandom } from '../../../src/calibrate/random';

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
    const random = seededRandom(5);
    const alphabet = '{}[]",:0123456789-.eE \\abSADCTLWM_x\u00e9';
    const lines = [...sampleSpaceLines('nas-bench-bert', { count: 200, seed: 8 })];
    let recognised = 0;
    for (let trial = 0; trial < 20000; trial++) {
      let text = lines[trial % lines.length];
      const edits = 1 + Math.floor(random() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * text.length);
        const char = alphabet[Math.floor(random() * alphabet.length)];
        const kind = random();
        if (kind < 0.4) text = text.slice(0, at) + char + text.slice(at + 1); // replace
        else if (kind < 0.7) text = text.slice(0, at) + char + text.slice(at); // insert
        else text = text.slice(0, at) + text.slice(at + 1); // delete
      }
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
