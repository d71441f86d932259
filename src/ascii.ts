/**
 * Byte-level JSON text, shared by the readers and writers that work on bytes instead of strings (JSONL input,
 * score lines, sampler lines): the ASCII codes they test and write, and decimal integers written digit by digit.
 * Kept here, below every layer, so that none of them has to import another for a name.
 */
export const NEWLINE = 0x0a;
export const QUOTE = 0x22;
export const COMMA = 0x2c;
export const MINUS = 0x2d;
export const ZERO = 0x30;
export const BACKSLASH = 0x5c;
export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;

/** Writes a safe integer's decimal digits (as String() writes it; -0 gives "0") at `offset`; returns the new offset. */
export function writeSafeInteger(value: number, target: Uint8Array, offset: number): number {
  let rest = value;
  if (rest < 0) {
    target[offset++] = MINUS;
    rest = -rest;
  }
  let digits = 1;
  for (let power = 10; power <= rest; power *= 10) digits++;
  const end = offset + digits;
  for (let p = end - 1; p >= offset; p--) {
    const next = Math.floor(rest / 10);
    target[p] = ZERO + (rest - next * 10);
    rest = next;
  }
  return end;
}
