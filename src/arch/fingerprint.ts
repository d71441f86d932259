/**
 * Where a calibration belongs: a fingerprint of the space its alpha was fitted on, and the test of whether an
 * architecture lies inside it.
 *
 * The fingerprint is the family and build, the range of layer counts, and for every matrix role (a scored matrix's
 * name without its layer index: "attention.query", "ffn.up", ...) the range of its rows and columns over all the
 * calibration's architectures. An architecture matches when it has the same family and build, a layer count within
 * the range, and only roles the calibration saw, each within its ranges: a new candidate of the same search space
 * matches, a model of another family or of sizes the labels never covered does not.
 */
import type { ModelPlan } from './types';

export interface RoleRange {
  rows: [number, number];
  cols: [number, number];
}

export interface SpaceFingerprint {
  family: string;
  build: string;
  layers: [number, number];
  /** Matrix role -> its rows and cols ranges. */
  roles: Record<string, RoleRange>;
}

/** "layers.3.attention.query" -> "attention.query"; a name without a layer index is its own role. */
export function roleOf(name: string): string {
  const match = /^layers\.\d+\.(.*)$/.exec(name);
  return match ? match[1] : name;
}

function widen(range: [number, number] | undefined, value: number): [number, number] {
  return range === undefined ? [value, value] : [Math.min(range[0], value), Math.max(range[1], value)];
}

/** The fingerprint of the plans a calibration was fitted on (all of one family and build). */
export function fingerprintOf(plans: readonly ModelPlan[]): SpaceFingerprint {
  if (plans.length === 0) throw new RangeError('a fingerprint needs at least one plan');
  let layers: [number, number] | undefined;
  const roles: Record<string, RoleRange> = {};
  for (const plan of plans) {
    layers = widen(layers, plan.layers.length);
    for (const layer of plan.layers) {
      for (const spec of [...layer.attention, ...layer.ffn]) {
        const role = roleOf(spec.name);
        const known = roles[role];
        roles[role] = { rows: widen(known?.rows, spec.rows), cols: widen(known?.cols, spec.cols) };
      }
    }
  }
  return { family: plans[0].family, build: plans[0].build, layers: layers as [number, number], roles };
}

const inside = (range: [number, number], value: number): boolean => value >= range[0] && value <= range[1];

/** Why `plan` lies outside the fingerprinted space, or undefined when it lies inside. */
export function mismatchOf(plan: ModelPlan, fingerprint: SpaceFingerprint): string | undefined {
  if (plan.family !== fingerprint.family) return `family ${plan.family}, calibrated on ${fingerprint.family}`;
  if (plan.build !== fingerprint.build) return `build ${plan.build}, calibrated on ${fingerprint.build}`;
  if (!inside(fingerprint.layers, plan.layers.length)) return `${plan.layers.length} layers, calibrated on ${fingerprint.layers[0]}-${fingerprint.layers[1]}`;
  for (const layer of plan.layers) {
    for (const spec of [...layer.attention, ...layer.ffn]) {
      const role = roleOf(spec.name);
      const range = fingerprint.roles[role];
      if (range === undefined) return `matrix ${spec.name}: no ${role} in the calibration's space`;
      if (!inside(range.rows, spec.rows) || !inside(range.cols, spec.cols)) {
        return `matrix ${spec.name} is ${spec.rows} x ${spec.cols}, calibrated on ${role} of ${range.rows[0]}-${range.rows[1]} x ${range.cols[0]}-${range.cols[1]}`;
      }
    }
  }
  return undefined;
}

/** Checks a parsed fingerprint's shape (calibration files are user input). */
export function isSpaceFingerprint(value: unknown): value is SpaceFingerprint {
  const v = value as SpaceFingerprint;
  const isRange = (r: unknown): boolean => Array.isArray(r) && r.length === 2 && r.every((x) => typeof x === 'number' && Number.isFinite(x));
  return (
    typeof v === 'object' && v !== null && typeof v.family === 'string' && typeof v.build === 'string' && isRange(v.layers) &&
    typeof v.roles === 'object' && v.roles !== null &&
    Object.values(v.roles).every((r) => typeof r === 'object' && r !== null && isRange((r as RoleRange).rows) && isRange((r as RoleRange).cols))
  );
}
