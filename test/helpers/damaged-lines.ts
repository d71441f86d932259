/** Randomly damaged copies of valid lines, for readers that must accept exactly one form and refuse the rest. */
import { seededRandom } from '../../src/stats/random';

/** Characters a damaged line gains: JSON's punctuation, digits, letters of the operation names, and non-ASCII. */
export const DAMAGE_ALPHABET = '{}[]",:0123456789-.eE \\abSADCTLWM_x\u00e9';

/**
 * `count` copies of `lines` (taken in turn), each with 1 to `maxEdits` random edits: a character replaced, inserted
 * or deleted. Seeded: the same arguments give the same lines.
 */
export function damagedLines(lines: readonly string[], count: number, seed: number, options: { alphabet?: string; maxEdits?: number } = {}): string[] {
  const random = seededRandom(seed);
  const alphabet = options.alphabet ?? DAMAGE_ALPHABET;
  const maxEdits = options.maxEdits ?? 3;
  const damaged: string[] = [];
  for (let i = 0; i < count; i++) {
    let text = lines[i % lines.length];
    const edits = 1 + Math.floor(random() * maxEdits);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(random() * text.length);
      const char = alphabet[Math.floor(random() * alphabet.length)];
      const kind = random();
      if (kind < 0.4) text = text.slice(0, at) + char + text.slice(at + 1);
      else if (kind < 0.7) text = text.slice(0, at) + char + text.slice(at);
      else text = text.slice(0, at) + text.slice(at + 1);
    }
    damaged.push(text);
  }
  return damaged;
}
