#!/usr/bin/env node
// Lines of code of src/, native/, test/ and bench/, by directory, so that the size of the codebase can be quoted
// before and after a change.
//   node scripts/size-report.mjs            the working tree
//   node scripts/size-report.mjs --ref main  a commit (read from git, nothing checked out)
//   add --json for one machine-readable object
// Counted: source files (.ts .mts .js .mjs .cjs .cc .cpp .h .hpp .cu .cuh); data and fixtures in other formats are
// not code. "lines" is every line, "code" leaves out blank lines and lines that are only a comment.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOTS = ['src', 'native', 'test', 'bench'];
const SOURCE = /\.(ts|mts|js|mjs|cjs|cc|cpp|h|hpp|cu|cuh)$/;
const repository = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const args = process.argv.slice(2);
const refAt = args.indexOf('--ref');
const ref = refAt >= 0 ? args[refAt + 1] : undefined;
const asJson = args.includes('--json');
if (refAt >= 0 && !ref) {
  console.error('size-report: --ref needs a commit, branch or tag');
  process.exit(2);
}

/** [path, text] of every source file under the roots, from the working tree or from a commit. */
function sourceFiles() {
  if (ref === undefined) {
    const walk = (dir) =>
      readdirSync(join(repository, dir), { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? walk(`${dir}/${entry.name}`) : SOURCE.test(entry.name) ? [`${dir}/${entry.name}`] : [],
      );
    return ROOTS.flatMap((root) => {
      try {
        return walk(root);
      } catch {
        return []; // a root this checkout lacks counts as empty
      }
    }).map((path) => [path, readFileSync(join(repository, path), 'utf8')]);
  }
  const git = (gitArgs, input) => execFileSync('git', gitArgs, { cwd: repository, input, maxBuffer: 1 << 30 });
  const paths = git(['ls-tree', '-r', '--name-only', ref, '--', ...ROOTS]).toString('utf8').split('\n').filter((path) => SOURCE.test(path));
  // One `git cat-file --batch` for every blob: "<sha> blob <size>\n<bytes>\n" per path, in order.
  const output = git(['cat-file', '--batch'], paths.map((path) => `${ref}:${path}\n`).join(''));
  const files = [];
  let at = 0;
  for (const path of paths) {
    const headerEnd = output.indexOf(10, at);
    const size = Number(output.toString('latin1', at, headerEnd).split(' ')[2]);
    files.push([path, output.toString('utf8', headerEnd + 1, headerEnd + 1 + size)]);
    at = headerEnd + 1 + size + 1;
  }
  return files;
}

function count(text) {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let code = 0;
  let inBlockComment = false;
  for (const raw of lines) {
    const line = raw.trim();
    if (inBlockComment) {
      if (line.includes('*/')) {
        inBlockComment = false;
        if (line.slice(line.indexOf('*/') + 2).trim() !== '') code += 1;
      }
      continue;
    }
    if (line === '' || line.startsWith('//')) continue;
    if (line.startsWith('/*')) {
      if (!line.includes('*/', 2)) inBlockComment = true;
      else if (line.slice(line.indexOf('*/', 2) + 2).trim() !== '') code += 1;
      continue;
    }
    code += 1;
  }
  return { lines: lines.length, code };
}

const byDirectory = new Map();
const byRoot = new Map(ROOTS.map((root) => [root, { files: 0, lines: 0, code: 0 }]));
for (const [path, text] of sourceFiles()) {
  const directory = path.slice(0, path.lastIndexOf('/'));
  const { lines, code } = count(text);
  const row = byDirectory.get(directory) ?? { files: 0, lines: 0, code: 0 };
  row.files += 1;
  row.lines += lines;
  row.code += code;
  byDirectory.set(directory, row);
  const total = byRoot.get(path.split('/')[0]);
  total.files += 1;
  total.lines += lines;
  total.code += code;
}
const directories = [...byDirectory.keys()].sort();
const total = [...byRoot.values()].reduce((sum, row) => ({ files: sum.files + row.files, lines: sum.lines + row.lines, code: sum.code + row.code }), { files: 0, lines: 0, code: 0 });

if (asJson) {
  console.log(JSON.stringify({ ref: ref ?? 'working tree', roots: Object.fromEntries(byRoot), directories: Object.fromEntries(directories.map((d) => [d, byDirectory.get(d)])), total }, null, 2));
} else {
  const width = Math.max(...directories.map((d) => d.length), 'directory'.length) + 2;
  const row = (name, { files, lines, code }) => `${name.padEnd(width)}${String(files).padStart(6)}${String(lines).padStart(9)}${String(code).padStart(9)}`;
  console.log(`lines of code, ${ref === undefined ? 'working tree' : ref}`);
  console.log(`${'directory'.padEnd(width)}${'files'.padStart(6)}${'lines'.padStart(9)}${'code'.padStart(9)}`);
  for (const root of ROOTS) {
    for (const directory of directories.filter((d) => d === root || d.startsWith(`${root}/`))) console.log(row(`  ${directory}`, byDirectory.get(directory)));
    console.log(row(`${root}/ (all)`, byRoot.get(root)));
  }
  console.log(row('total', total));
}
