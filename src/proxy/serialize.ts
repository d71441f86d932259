/**
 * JSON lines for score records, byte-identical to JSON.stringify but several times faster on streams: the run's
 * constant fields are serialised once, and each shared per-layer breakdown once per layer object.
 */
import type { ScoreRecord } from './many';
import type { LayerScore, Score } from './score';

const CONSTANT_FIELDS = ['measure', 'alpha', 'family', 'build', 'mode', 'seed', 'seedPolicy', 'perHead'] as const;

export class ScoreSerializer {
  private readonly layerJson = new WeakMap<LayerScore, string>();
  private constantKey: unknown[] = [];
  private constantJson = '';

  line(record: ScoreRecord): string {
    const score = record as Score & { source?: string; line?: number };
    if (typeof score.score !== 'number' || !Number.isFinite(score.score) || !Array.isArray(score.layers) || !this.hasExpectedShape(score)) {
      return JSON.stringify(record);
    }
    const constants = CONSTANT_FIELDS.map((field) => score[field]);
    if (constants.some((value, i) => value !== this.constantKey[i])) {
      this.constantKey = constants;
      this.constantJson = CONSTANT_FIELDS.map((field) => `${JSON.stringify(field)}:${JSON.stringify(score[field])}`).join(',');
    }
    let layers = '';
    for (let i = 0; i < score.layers.length; i++) {
      const layer = score.layers[i];
      let json = this.layerJson.get(layer);
      if (json === undefined) {
        json = JSON.stringify(layer);
        this.layerJson.set(layer, json);
      }
      layers += i === 0 ? json : `,${json}`;
    }
    let out = '{';
    if (score.id !== undefined) out += `"id":${JSON.stringify(score.id)},`;
    out += `"score":${score.score},"attention":${score.attention},"ffn":${score.ffn},"params":${score.params},"nonEmbeddingParams":${score.nonEmbeddingParams},${this.constantJson},"layers":[${layers}]`;
    if (score.source !== undefined) out += `,"source":${JSON.stringify(score.source)}`;
    if (score.line !== undefined) out += `,"line":${score.line}`;
    return `${out}}`;
  }

  /** The fast path only knows the key order withAlpha produces; anything else goes through JSON.stringify. */
  private hasExpectedShape(score: Score & { source?: string; line?: number }): boolean {
    const keys = Object.keys(score);
    const expected = ['score', 'attention', 'ffn', 'params', 'nonEmbeddingParams', ...CONSTANT_FIELDS, 'layers'];
    let k = score.id !== undefined ? 1 : 0;
    if (k === 1 && keys[0] !== 'id') return false;
    for (const field of expected) if (keys[k++] !== field) return false;
    if (score.source !== undefined && keys[k++] !== 'source') return false;
    if (score.line !== undefined && keys[k++] !== 'line') return false;
    return k === keys.length && [score.attention, score.ffn, score.params, score.nonEmbeddingParams].every(Number.isFinite);
  }
}
