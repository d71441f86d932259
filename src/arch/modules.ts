/**
 * modules: a generic description for any architecture the other families do not cover.
 *
 * {
 *   "format": "modules", "id"?: string, "hiddenSize"?: int,
 *   "layers": [{ "attention": [matrix...], "ffn": [matrix...], "otherParams"?: int >= 0 }, ...],
 *   "extras"?: [matrix...]
 * }
 * matrix = { "name"?: string, "rows": int, "cols": int, "heads"?: int, "headAxis"?: "rows"|"cols",
 *            "init"?: InitScheme, "bias"?: boolean }
 *
 * Layer params: attention and ffn count rows*cols (+ rows for a bias) of their matrices; otherParams (default 0)
 * holds everything else in the layer (norms, convolution kernels, ...). Extras count the same way into `embedding`.
 * heads and headAxis come together; heads must divide the dimension headAxis names. Unnamed matrices are called
 * layers.<i>.attention.<j>, layers.<i>.ffn.<j>, extras.<j>; names must be unique. hiddenSize defaults to the
 * input width (cols) of the first matrix of the first layer.
 *
 * Default init: a matrix's own init, else the caller's init option, else normal with std 0.02.
 */
import {
  checkInit,
  describeValue,
  fieldError,
  fieldPath,
  indexPath,
  checkLayerCount,
  readArray,
  readOptionalBoolean,
  readOptionalPositiveInteger,
  readPositiveInteger,
  requireRecord,
  resolveBuildOptions,
  type FamilyBuildOptions,
} from './fields';
import { finishPlan, idOf, linearParams, matrix, normalInit } from './plan';
import type { InitScheme, LayerPlan, MatrixSpec, ModelPlan } from './types';

export const MODULES_BUILDS = ['default'] as const;
export const MODULES_DEFAULT_BUILD = 'default';
export const MODULES_DEFAULT_INIT: InitScheme = normalInit(0.02);

function parseMatrix(value: unknown, path: string, defaultName: string, defaultInit: InitScheme, names: Set<string>): { spec: MatrixSpec; params: number } {
  const record = requireRecord(value, path);
  let name = defaultName;
  if (record.name !== undefined) {
    if (typeof record.name !== 'string' || record.name === '') {
      throw fieldError('E_FORMAT', fieldPath(path, 'name'), `must be a non-empty string, got ${describeValue(record.name)}`);
    }
    name = record.name;
  }
  if (names.has(name)) throw fieldError('E_FORMAT', fieldPath(path, 'name'), `${JSON.stringify(name)} is used by another matrix; names must be unique`);
  names.add(name);
  const rows = readPositiveInteger(record, 'rows', path);
  const cols = readPositiveInteger(record, 'cols', path);
  const init = record.init === undefined ? defaultInit : checkInit(record.init, fieldPath(path, 'init'));
  const bias = readOptionalBoolean(record, 'bias', path, false);
  const heads = readOptionalPositiveInteger(record, 'heads', path, undefined);
  const headAxis = record.headAxis;
  if (heads === undefined && headAxis !== undefined) {
    throw fieldError('E_FORMAT', fieldPath(path, 'heads'), 'missing: headAxis is given, so heads is required too');
  }
  if (heads !== undefined) {
    if (headAxis === undefined) throw fieldError('E_FORMAT', fieldPath(path, 'headAxis'), 'missing: heads is given, so headAxis ("rows" or "cols") is required too');
    if (headAxis !== 'rows' && headAxis !== 'cols') {
      throw fieldError('E_FORMAT', fieldPath(path, 'headAxis'), `must be "rows" or "cols", got ${describeValue(headAxis)}`);
    }
    const split = headAxis === 'rows' ? rows : cols;
    if (split % heads !== 0) throw fieldError('E_FORMAT', fieldPath(path, 'heads'), `${heads} heads do not divide ${headAxis} = ${split}`);
    return { spec: matrix(name, rows, cols, init, heads, headAxis), params: linearParams(rows, cols, bias) };
  }
  return { spec: matrix(name, rows, cols, init), params: linearParams(rows, cols, bias) };
}

function parseMatrixList(value: unknown[], path: string, defaultPrefix: string, defaultInit: InitScheme, names: Set<string>): { specs: MatrixSpec[]; params: number } {
  const specs: MatrixSpec[] = [];
  let params = 0;
  value.forEach((entry, j) => {
    const parsed = parseMatrix(entry, indexPath(path, j), `${defaultPrefix}.${j}`, defaultInit, names);
    specs.push(parsed.spec);
    params += parsed.params;
  });
  return { specs, params };
}

export function buildModules(input: unknown, options?: FamilyBuildOptions): ModelPlan {
  const resolved = resolveBuildOptions(options, 'modules', MODULES_BUILDS, MODULES_DEFAULT_BUILD);
  const record = requireRecord(input, '');
  if (record.format !== 'modules') throw fieldError('E_FORMAT', 'format', `must be "modules", got ${describeValue(record.format)}`);
  const defaultInit = resolved.init ?? MODULES_DEFAULT_INIT;
  const names = new Set<string>();
  const list = readArray(record, 'layers', '');
  if (list.length === 0) throw fieldError('E_FORMAT', 'layers', 'must list at least one layer');
  checkLayerCount(list.length, 'layers');
  const layers = list.map((value, i): LayerPlan => {
    const path = indexPath('layers', i);
    const layer = requireRecord(value, path);
    const attention = parseMatrixList(readArray(layer, 'attention', path), fieldPath(path, 'attention'), `layers.${i}.attention`, defaultInit, names);
    const ffn = parseMatrixList(readArray(layer, 'ffn', path), fieldPath(path, 'ffn'), `layers.${i}.ffn`, defaultInit, names);
    const other = layer.otherParams ?? 0;
    if (typeof other !== 'number' || !Number.isSafeInteger(other) || other < 0) {
      throw fieldError('E_FORMAT', fieldPath(path, 'otherParams'), `must be a non-negative integer, got ${describeValue(other)}`);
    }
    return { attention: attention.specs, ffn: ffn.specs, params: { attention: attention.params, ffn: ffn.params, other } };
  });
  let extras: MatrixSpec[] = [];
  let embeddingParams = 0;
  if (record.extras !== undefined) {
    const parsed = parseMatrixList(readArray(record, 'extras', ''), 'extras', 'extras', MODULES_DEFAULT_INIT, names);
    extras = parsed.specs;
    embeddingParams = parsed.params;
  }
  let hiddenSize = readOptionalPositiveInteger(record, 'hiddenSize', '', undefined);
  if (hiddenSize === undefined) {
    const first = layers[0].attention[0] ?? layers[0].ffn[0];
    if (first === undefined) throw fieldError('E_FORMAT', 'hiddenSize', 'missing, and the first layer has no matrix to infer it from');
    hiddenSize = first.cols;
  }
  const id = resolved.id ?? idOf(record.id);
  return finishPlan({ ...(id === undefined ? {} : { id }), family: 'modules', build: resolved.build, hiddenSize, layers, extras, embeddingParams });
}
