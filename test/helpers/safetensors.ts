/**
 * Writes safetensors files for tests: the format's 8-byte little-endian header length, JSON header and raw
 * little-endian data, encoded here independently of the reader under test.
 */
import { writeFileSync } from 'node:fs';

export type TestDtype = 'F32' | 'F16' | 'BF16' | 'I32';

export interface TestTensor {
  name: string;
  shape: number[];
  values: ArrayLike<number>;
  dtype?: TestDtype;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> IEEE half, round to nearest even (exact for the small values tests use). */
export function toHalf(value: number): number {
  f32[0] = value;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  let mantissa = bits & 0x7fffff;
  if (((bits >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  if (exponent >= 0x1f) return sign | 0x7c00;
  if (exponent <= 0) {
    if (exponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - exponent;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (exponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** float32 -> bfloat16 by truncation (exact for values with 8 significant bits). */
export function toBfloat16(value: number): number {
  f32[0] = value;
  return u32[0] >>> 16;
}

export function encodeTensor(values: ArrayLike<number>, dtype: TestDtype): Buffer {
  const size = dtype === 'F32' || dtype === 'I32' ? 4 : 2;
  const out = Buffer.alloc(values.length * size);
  for (let i = 0; i < values.length; i++) {
    if (dtype === 'F32') out.writeFloatLE(values[i], 4 * i);
    else if (dtype === 'I32') out.writeInt32LE(values[i], 4 * i);
    else if (dtype === 'F16') out.writeUInt16LE(toHalf(values[i]), 2 * i);
    else out.writeUInt16LE(toBfloat16(values[i]), 2 * i);
  }
  return out;
}

/** The bytes of a safetensors file holding `tensors` in order (dtype default F32). */
export function safetensorsBytes(tensors: readonly TestTensor[], metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const tensor of tensors) {
    const dtype = tensor.dtype ?? 'F32';
    const data = encodeTensor(tensor.values, dtype);
    header[tensor.name] = { dtype, shape: tensor.shape, data_offsets: [offset, offset + data.length] };
    chunks.push(data);
    offset += data.length;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, ...chunks]);
}

export function writeSafetensors(path: string, tensors: readonly TestTensor[]): void {
  writeFileSync(path, safetensorsBytes(tensors));
}
