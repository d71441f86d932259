/**
 * The house has one direction: no file imports itself back through others, no directory of src/ depends on
 * another that depends back on it, and the scorer (proxy/) knows nothing of its consumers. Type-only imports
 * are left out: they vanish at compile time and cannot form a load-order cycle.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const SRC = path.resolve(__dirname, '../../../src');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out.sort();
}

/** Resolves a relative specifier the way Node + tsc do for this project (file.ts, or dir/index.ts). */
function resolveImport(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
    if (candidate.endsWith('.ts') && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** True when an import declaration brings in at least one value (not only types). */
function importsValue(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return true; // `import './x'`: a side effect
  if (clause.isTypeOnly) return false;
  if (clause.name) return true;
  const bindings = clause.namedBindings;
  if (!bindings) return false;
  if (ts.isNamespaceImport(bindings)) return true;
  // `import { type A, type B } from` is elided by tsc; one plain specifier keeps the import.
  return bindings.elements.length === 0 || bindings.elements.some((element) => !element.isTypeOnly);
}

function exportsValue(node: ts.ExportDeclaration): boolean {
  if (node.isTypeOnly) return false;
  const clause = node.exportClause;
  if (!clause || ts.isNamespaceExport(clause)) return true;
  return clause.elements.length === 0 || clause.elements.some((element) => !element.isTypeOnly);
}

/**
 * Value imports of one file: static imports and re-exports, and (with `lazy`) literal `import()` / `require()` calls
 * too. A lazy import runs when called, not when the file loads, so it cannot leave a binding undefined at load time:
 * file-level cycles are judged on load-time imports; the layering of directories on every import.
 */
export function valueImports(file: string, text: string = fs.readFileSync(file, 'utf8'), lazy = true): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && importsValue(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && exportsValue(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && !node.isTypeOnly && ts.isExternalModuleReference(node.moduleReference)) {
      const expression = node.moduleReference.expression;
      if (ts.isStringLiteral(expression)) specifiers.push(expression.text);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0]!)) {
      const isDynamicImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (lazy && (isDynamicImport || isRequire)) specifiers.push((node.arguments[0] as ts.StringLiteral).text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers.map((specifier) => resolveImport(file, specifier)).filter((target): target is string => target !== undefined);
}

type Graph = Map<string, Set<string>>;

/** Every elementary cycle is found by one: the strongly connected components with more than one node (or a self-loop). */
export function findCycles(graph: Graph): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const lowlink = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  const strongConnect = (node: string): void => {
    indices.set(node, index);
    lowlink.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        strongConnect(next);
        lowlink.set(node, Math.min(lowlink.get(node)!, lowlink.get(next)!));
      } else if (onStack.has(next)) {
        lowlink.set(node, Math.min(lowlink.get(node)!, indices.get(next)!));
      }
    }
    if (lowlink.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.has(node)) components.push(component);
    }
  };
  for (const node of [...graph.keys()].sort()) if (!indices.has(node)) strongConnect(node);
  return components.map((component) => exampleCycle(graph, new Set(component)));
}

/** One concrete path a -> b -> ... -> a inside a strongly connected component, for the failure message. */
function exampleCycle(graph: Graph, component: Set<string>): string[] {
  const start = [...component].sort()[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  const seen = new Set([start]);
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      if (!component.has(next)) continue;
      if (next === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return [...path, start];
      }
      if (!seen.has(next)) {
        seen.add(next);
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

const files = sourceFiles(SRC);
const relative = (file: string): string => path.relative(SRC, file).split(path.sep).join('/');
const fileGraph: Graph = new Map(files.map((file) => [relative(file), new Set(valueImports(file).map(relative))]));
const loadTimeGraph: Graph = new Map(files.map((file) => [relative(file), new Set(valueImports(file, undefined, false).map(relative))]));

/** src/arch/hf/x.ts -> arch; a file at the top of src/ (errors.ts, native.ts) is its own module. */
function moduleOf(file: string): string {
  const parts = file.split('/');
  return parts.length === 1 ? parts[0]!.replace(/\.ts$/, '') : parts[0]!;
}

function directoryGraph(graph: Graph): Graph {
  const directories: Graph = new Map();
  for (const [from, targets] of graph) {
    const fromModule = moduleOf(from);
    if (!directories.has(fromModule)) directories.set(fromModule, new Set());
    for (const target of targets) {
      const toModule = moduleOf(target);
      if (toModule !== fromModule) directories.get(fromModule)!.add(toModule);
    }
  }
  return directories;
}

const describeCycles = (cycles: string[][]): string[] => cycles.map((cycle) => cycle.join(' -> '));

describe('import graph of src/', () => {
  it('reads the imports it is meant to read', () => {
    // The parser is itself checked on a sample: type-only forms are not edges, every value form is.
    const probe = path.join(SRC, 'proxy', 'probe.ts');
    const text = [
      "import type { A } from './alpha';",
      "import { type B } from './cache';",
      "import { score } from './score';",
      "export type * from '../arch/types';",
      "export { x } from './many';",
      "const lazy = () => import('./parallel');",
      "const old = require('../errors');",
      "type T = typeof import('./serialize');",
    ].join('\n');
    expect(valueImports(probe, text).map(relative).sort()).toEqual(['errors.ts', 'proxy/many.ts', 'proxy/parallel.ts', 'proxy/score.ts']);
    expect(valueImports(probe, text, false).map(relative).sort()).toEqual(['proxy/many.ts', 'proxy/score.ts']);
    expect(findCycles(new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])], ['d', new Set(['a'])]]))).toEqual([['a', 'b', 'c', 'a']]);
  });

  it('has no file-level import cycle (load-time imports)', () => {
    expect(describeCycles(findCycles(loadTimeGraph))).toEqual([]);
  });

  it('has no directory-level import cycle (every import, lazy ones included)', () => {
    expect(describeCycles(findCycles(directoryGraph(fileGraph)))).toEqual([]);
  });

  it('imports only downward in the layering of DESIGN.md', () => {
    // arch -> weights -> native -> capacity -> proxy -> space -> search / calibrate -> eval -> cli. Leaves (errors,
    // ascii, stats, progress) import nothing of the project but errors; modules of one layer do not import each other.
    const layers: string[][] = [
      ['errors'],
      ['ascii', 'stats', 'progress'],
      ['arch', 'io'],
      ['weights'],
      ['native'],
      ['capacity'],
      ['proxy'],
      ['space'],
      ['search', 'calibrate'],
      ['eval'],
      ['cli'],
      ['index'],
    ];
    const layerOf = new Map(layers.flatMap((modules, layer) => modules.map((module): [string, number] => [module, layer])));
    const directories = directoryGraph(fileGraph);
    expect([...directories.keys()].filter((module) => !layerOf.has(module))).toEqual([]);
    const upward = [...directories].flatMap(([from, targets]) =>
      [...targets].filter((target) => layerOf.get(target)! >= layerOf.get(from)!).map((target) => `${from} -> ${target}`),
    );
    expect(upward).toEqual([]);
  });

  it('keeps proxy/ free of its consumers (search, eval, calibrate, cli, space)', () => {
    const consumers = new Set(['search', 'eval', 'calibrate', 'cli', 'space']);
    const offending = [...fileGraph]
      .filter(([from]) => moduleOf(from) === 'proxy')
      .flatMap(([from, targets]) => [...targets].filter((target) => consumers.has(moduleOf(target))).map((target) => `${from} -> ${target}`));
    expect(offending).toEqual([]);
  });
});
