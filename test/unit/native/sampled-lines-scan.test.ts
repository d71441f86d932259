/**
 * The addon's reader of sampled nas-bench-bert lines (native/lines/, scanSampledLines) against two independent
 * oracles: a regular expression of the canonical form (which lines it must accept) and JSON.parse (what it must
 * read on them). Here, under test/unit/native, so that it also runs under AddressSanitizer (npm run test:asan).
 */
import { nativeTestHooks, SAMPLED_LAYER_FIELDS, SAMPLED_LINE_FIELDS, scanSampledLines } from '../../../src/native';
import { sampleSpaceLines } from '../../../src/search/sample';
import { DAMAGE_ALPHABET, damagedLines } from '../../helpers/damaged-lines';
import { zerolmErrorOf } from '../../helpers/zerolm-error';

// The form src/search/sampled-lines.ts documents, over latin1 text (one character per byte).
const PLAIN = '[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]*';
const INT = '(?:0|[1-9][0-9]{0,14})';
const LAYER = `\\{"operation_type":"${PLAIN}","operation_parameter":(?:"${PLAIN}"|${INT}),"num_operation_heads":${INT},"feed_forward_dimension":${INT},"num_feed_forward":${INT}\\}`;
const CANONICAL = new RegExp(`^\\{"id":"${PLAIN}","hidden_size":${INT},"nas_config":\\{"encoder_layers":\\[${LAYER}(?:,${LAYER})*\\]\\}\\}$`);

interface ReadLine {
  start: number;
  end: number;
  value?: { id: string; hidden_size: number; nas_config: { encoder_layers: unknown[] } };
}

/** Every line as the addon reads it, its fields turned into the object JSON.parse would give. */
function readByAddon(bytes: Uint8Array): ReadLine[] {
  const { lines, hidden, layers } = scanSampledLines(bytes);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const result: ReadLine[] = [];
  for (let line = 0; line * SAMPLED_LINE_FIELDS < lines.length; line++) {
    const [start, end, first, count, idStart, idEnd] = lines.subarray(line * SAMPLED_LINE_FIELDS, (line + 1) * SAMPLED_LINE_FIELDS);
    if (first < 0) {
      expect([count, idStart, idEnd, hidden[line]]).toEqual([0, 0, 0, 0]);
      result.push({ start, end });
      continue;
    }
    const encoderLayers = Array.from({ length: count }, (_, i) => {
      const [typeStart, typeEnd, parameterStart, parameterEnd, parameterValue, heads, width, depth] = layers.subarray((first + i) * SAMPLED_LAYER_FIELDS, (first + i + 1) * SAMPLED_LAYER_FIELDS);
      return {
        operation_type: text.slice(typeStart, typeEnd),
        operation_parameter: parameterStart < 0 ? parameterValue : text.slice(parameterStart, parameterEnd),
        num_operation_heads: heads,
        feed_forward_dimension: width,
        num_feed_forward: depth,
      };
    });
    result.push({ start, end, value: { id: text.slice(idStart, idEnd), hidden_size: hidden[line], nas_config: { encoder_layers: encoderLayers } } });
  }
  return result;
}

/** The oracle: lines split at newlines (a last piece without one too), accepted iff the regular expression matches. */
function expected(bytes: Buffer): ReadLine[] {
  const result: ReadLine[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(10, start);
    if (end < 0) end = bytes.length;
    const text = bytes.toString('latin1', start, end);
    result.push(CANONICAL.test(text) ? { start, end, value: JSON.parse(text) } : { start, end });
    start = end + 1;
  }
  return result;
}

describe('scanSampledLines (the addon)', () => {
  const sampled = [...sampleSpaceLines('nas-bench-bert', { count: 2000, seed: 31 })];

  it('reads every sampled line as JSON.parse does', () => {
    const bytes = Buffer.from(`${sampled.join('\n')}\n`);
    const read = readByAddon(bytes);
    expect(read).toHaveLength(sampled.length);
    expect(read.every((line) => line.value !== undefined)).toBe(true);
    expect(read).toEqual(expected(bytes));
  });

  it('accepts exactly the canonical form, on 30,000 randomly damaged lines and on odd ones', () => {
    const odd = [
      '', ' ', '\r', '{}', '[1]', `${sampled[0]}\r`, ` ${sampled[0]}`, sampled[0].slice(0, -1), sampled[0].slice(0, 40),
      sampled[0].replace(/"hidden_size":\d+/, '"hidden_size":1234567890123456'),
      sampled[0].replace(/"hidden_size":\d+/, '"hidden_size":123456789012345'),
      sampled[0].replace(/"hidden_size":\d+/, '"hidden_size":0'),
      sampled[0].replace(/"hidden_size":\d+/, '"hidden_size":00'),
      sampled[0].replace(/"num_operation_heads":\d+/, '"num_operation_heads":4294967296'),
      sampled[0].replace(/"operation_parameter":"[A-Z]+"/, '"operation_parameter":""'),
      sampled[0].replace(/"id":"[^"]*"/, '"id":""'),
      sampled[0].replace(/"id":"[^"]*"/, '"id":"a\\"b"'),
      '{"id":"a","hidden_size":128,"nas_config":{"encoder_layers":[]}}',
      // Bytes after a complete line (random damage never lands past the last byte).
      `${sampled[0]} `, `${sampled[0]}}`, `${sampled[0]},`, `${sampled[0]}${sampled[1]}`,
    ];
    const lines = [...damagedLines(sampled, 30000, 7, { alphabet: `${DAMAGE_ALPHABET}\u0000\u007f` }), ...odd];
    for (const ending of ['\n', '']) {
      const bytes = Buffer.from(lines.join('\n') + ending);
      const read = readByAddon(bytes);
      expect(read).toEqual(expected(bytes));
      const canonical = read.filter((line) => line.value !== undefined).length;
      expect(canonical).toBeGreaterThan(500); // damage that keeps the form (a digit for a digit) is read too
      expect(canonical).toBeLessThan(lines.length - 10000);
    }
  });

  it('reads a view of a larger buffer at the view\'s own offsets; splits edge cases as the oracle', () => {
    const whole = Buffer.from(`xx\n${sampled[1]}\n${sampled[2]}`);
    const view = whole.subarray(3);
    expect(readByAddon(view)).toEqual(expected(Buffer.from(view)));
    expect(readByAddon(view)[0]).toMatchObject({ start: 0, end: sampled[1].length });
    expect(readByAddon(Buffer.alloc(0))).toEqual([]);
    expect(readByAddon(Buffer.from('\n\n'))).toEqual([{ start: 0, end: 0 }, { start: 1, end: 1 }]);
    expect(readByAddon(new Uint8Array(Buffer.from(sampled[3])))).toEqual(expected(Buffer.from(sampled[3])));
  });

  it('refuses what is not a Uint8Array, in TypeScript and in the addon', () => {
    for (const bytes of [new Uint16Array(4), 'text', undefined, [1, 2]]) {
      const checked = zerolmErrorOf(() => scanSampledLines(bytes as unknown as Uint8Array));
      expect(checked.code).toBe('E_ARGUMENT');
      expect(checked.message).toContain('scanSampledLines bytes');
      const raw = zerolmErrorOf(() => nativeTestHooks.unvalidatedScanSampledLines(bytes));
      expect(raw.code).toBe('E_ARGUMENT');
      expect(raw.message).toContain('scanSampledLines: bytes must be a Uint8Array');
    }
  });
});
