/**
 * Other proxies' published scores on the embedded benchmarks, for side-by-side tables (data/benchmarks/
 * peer-proxy-scores/). Every score set carries the direction to rank it by, taken from its authors' convention:
 *
 * nas-bench-bert (Serianni & Kalita 2023; LPZero 2024): both correlate the raw metric with GLUE, so every column
 *   is higher-is-better.
 * lts-gpt2-wt103 (LPZero's saved_logs/random_GPT2_wt103): LPZero's lpzero/runner/eval_rank_gpt2.py ranks by the
 *   NEGATED score against valid_ppl (lower perplexity first), i.e. a higher score means a better model; it negates
 *   grasp before that, so grasp is lower-is-better. The stored lpzero scores rise with perplexity (Spearman +0.980
 *   against valid_ppl), and the published LPZero result (Spearman 0.980 / Kendall 0.886) is reached only by
 *   ranking them lower-is-better, so lpzero is lower-is-better too.
 * Also for lts-gpt2-wt103: `decoder_params`, LPZero's "# D.Params" baseline (Attn + FFN of params_summary.yaml),
 *   higher-is-better.
 * lts-txl-wt103: no proxy has published scores on it; `decoder_params` (Attn + FFN of its params_summary.yaml) is
 *   the only score set.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ZeroLMError } from '../errors';
import { BenchmarkName, LtsBenchmarkName, checkBenchmarkName, compareLtsIds, defaultBenchmarkDir, loadLtsParamsSummary, readTextFile, readYamlFile } from './benchmarks';

export interface PeerScores {
  /** snake_case name: the LTS file stem ('lpzero', 'snip', ...) or the csv column ('number_of_parameters', ...). */
  name: string;
  /** Where the numbers come from: file (relative to data/benchmarks) and, for csv files, the column. */
  source: string;
  /** Direction to rank by: true when a higher score predicts a better model (see the file comment). */
  higherIsBetter: boolean;
  /** Score by benchmark entry id. */
  scores: Map<string, number>;
  /** FLOPs LPZero recorded for computing the score (the *_cost.yaml files), where it recorded any. */
  costs?: Map<string, number>;
}

/** LTS proxies that LPZero ranks lower-is-better; see the file comment. */
const LTS_LOWER_IS_BETTER = new Set(['grasp', 'lpzero']);

const BERT_PEER_FOLDER = path.join('peer-proxy-scores', 'nas-bench-bert');
const LTS_PEER_FOLDER = path.join('peer-proxy-scores', 'lts-gpt2-wt103');
const SCORE_FILE_SUFFIX = '_scores_seed_1111.yaml';

/** Loads every published peer score set for `benchmark`. */
export function loadPeerScores(benchmark: BenchmarkName, dataDir?: string): PeerScores[] {
  const name = checkBenchmarkName(benchmark);
  const root = dataDir ?? defaultBenchmarkDir();
  if (name === 'nas-bench-bert') return loadBertPeers(root);
  if (name === 'lts-gpt2-wt103') return [...loadLtsPeers(root), decoderParams(root, name)];
  return [decoderParams(root, name)];
}

/** "Number of Parameters" -> "number_of_parameters". */
export function snakeCase(header: string): string {
  return header
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

interface CsvTable {
  file: string;
  header: string[];
  rows: string[][];
}

/** The peer csv files are plain comma-separated numbers (no quoting), CRLF or LF line ends. */
function readCsv(root: string, relative: string): CsvTable {
  const file = path.join(root, relative);
  const lines = readTextFile(file)
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '');
  if (lines.length < 2) throw new ZeroLMError('E_FORMAT', `${file}: expected a header and data rows`, { file });
  const header = lines[0].split(',').map((cell) => cell.trim());
  const rows = lines.slice(1).map((line, index) => {
    const cells = line.split(',');
    if (cells.length !== header.length) {
      throw new ZeroLMError('E_FORMAT', `${file}: line ${index + 2} has ${cells.length} fields, the header has ${header.length}`, {
        file,
        line: index + 2,
      });
    }
    return cells;
  });
  return { file, header, rows };
}

function csvNumber(table: CsvTable, row: number, column: number): number {
  const text = table.rows[row][column].trim();
  const value = Number(text);
  if (text === '' || !Number.isFinite(value)) {
    throw new ZeroLMError('E_PARSE', `${table.file}: line ${row + 2}, column "${table.header[column]}": ${JSON.stringify(text)} is not a finite number`, {
      file: table.file,
      line: row + 2,
      field: table.header[column],
    });
  }
  return value;
}

function csvColumns(table: CsvTable, relative: string, skip: Set<string>, taken: Set<string>): PeerScores[] {
  const idColumn = table.header.indexOf('ID');
  if (idColumn < 0) throw new ZeroLMError('E_FORMAT', `${table.file}: no ID column`, { file: table.file, field: 'ID' });
  const ids = table.rows.map((cells) => String(Number(cells[idColumn].trim())));
  const result: PeerScores[] = [];
  table.header.forEach((header, column) => {
    if (skip.has(header) || taken.has(header)) return;
    taken.add(header);
    const scores = new Map<string, number>();
    ids.forEach((id, row) => scores.set(id, csvNumber(table, row, column)));
    result.push({ name: snakeCase(header), source: `${relative.split(path.sep).join('/')}#${header}`, higherIsBetter: true, scores });
  });
  return result;
}

function loadBertPeers(root: string): PeerScores[] {
  const skip = new Set(['ID', 'GLUE Score']);
  const taken = new Set<string>();
  // Serianni & Kalita's table first: LPZero's copy of the shared columns carries the same numbers with fewer
  // digits, so only its own column (lpzero) is taken from it.
  const serianniFile = path.join(BERT_PEER_FOLDER, 'serianni_kalita_2023.csv');
  const lpzeroFile = path.join(BERT_PEER_FOLDER, 'lpzero_2024.csv');
  return [
    ...csvColumns(readCsv(root, serianniFile), serianniFile, skip, taken),
    ...csvColumns(readCsv(root, lpzeroFile), lpzeroFile, skip, taken),
  ];
}

function readScoreMap(file: string): Map<string, number> {
  const data = readYamlFile(file);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ZeroLMError('E_FORMAT', `${file}: expected a mapping from architecture ids to numbers`, { file });
  }
  const record = data as Record<string, unknown>;
  const result = new Map<string, number>();
  for (const id of Object.keys(record).sort(compareLtsIds)) {
    const value = record[id];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new ZeroLMError('E_FORMAT', `${file}: ${id} must be a finite number, got ${JSON.stringify(value)}`, { file, field: id });
    }
    result.set(id, value);
  }
  return result;
}

function loadLtsPeers(root: string): PeerScores[] {
  const folder = path.join(root, LTS_PEER_FOLDER);
  let files: string[];
  try {
    files = fs.readdirSync(folder);
  } catch (error) {
    throw new ZeroLMError('E_IO', `cannot list ${folder}: ${(error as Error).message}`, { file: folder }, { cause: error });
  }
  const result: PeerScores[] = [];
  for (const file of files.filter((f) => f.endsWith(SCORE_FILE_SUFFIX)).sort()) {
    const name = file.slice(0, -SCORE_FILE_SUFFIX.length);
    const peer: PeerScores = {
      name,
      source: `peer-proxy-scores/lts-gpt2-wt103/${file}`,
      higherIsBetter: !LTS_LOWER_IS_BETTER.has(name),
      scores: readScoreMap(path.join(folder, file)),
    };
    const costFile = path.join(folder, `${name}_cost.yaml`);
    if (fs.existsSync(costFile)) {
      // LPZero writes 0 for proxies whose cost it did not measure, and {} for lpzero itself.
      const costs = readScoreMap(costFile);
      if ([...costs.values()].some((cost) => cost !== 0)) peer.costs = costs;
    }
    result.push(peer);
  }
  return result;
}

/** LPZero's "# D.Params" baseline: the decoder layers' parameters (Attn + FFN) that an LTS benchmark publishes. */
function decoderParams(root: string, benchmark: LtsBenchmarkName): PeerScores {
  const scores = new Map<string, number>();
  for (const [id, counts] of loadLtsParamsSummary(root, benchmark)) scores.set(id, counts.Attn + counts.FFN);
  return { name: 'decoder_params', source: `${benchmark}/params_summary.yaml#Attn+FFN`, higherIsBetter: true, scores };
}
