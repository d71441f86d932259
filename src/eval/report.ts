/** Human-readable tables of evaluation reports (the CLI prints these; --json prints the reports themselves). */
import { DEFAULTS } from '../proxy/score';
import type { AllArchitectures, EvalReport, HeldOut, MeanSd } from './evaluate';

const format = (value: MeanSd): string => (Number.isFinite(value.mean) ? `${value.mean.toFixed(3)} ± ${value.sd.toFixed(3)}` : 'n/a');
const plain = (value: number | undefined): string => (value !== undefined && Number.isFinite(value) ? value.toFixed(3) : '');

interface Row {
  name: string;
  labels: string;
  heldOut: HeldOut;
  all?: AllArchitectures;
}

/** The rows of one benchmark and build: each measure label-free and calibrated, then the baselines, best held-out Kendall first. */
export function evalRows(group: readonly EvalReport[]): Row[] {
  const first = group[0];
  const rows: Row[] = [];
  for (const r of group) {
    const isDefault = r.measure === DEFAULTS.measure;
    rows.push({ name: `zerolm ${r.measure}, label-free${isDefault ? ' (the default score)' : ''}`, labels: '0', heldOut: r.labelFree, all: r.labelFree.all });
    const alpha = r.alphaStrategy === 'fixed' ? `alpha ${r.alpha.mean.toFixed(2)}` : `alpha ${r.alpha.mean.toFixed(2)} ± ${r.alpha.sd.toFixed(2)}`;
    rows.push({ name: `zerolm ${r.measure}, calibrated ${r.rule} (${alpha})`, labels: String(r.sampleSize), heldOut: r.heldOut });
  }
  for (const [name, baseline] of Object.entries(first.baselines)) rows.push({ name, labels: '0', heldOut: baseline, all: baseline.all });
  return rows.sort((a, b) => (b.heldOut.kendall.mean || -2) - (a.heldOut.kendall.mean || -2));
}

/** What a benchmark's label is, in words, by its name; another label is named as it is. */
const LABEL_WORDS: Readonly<Record<string, string>> = {
  glue: "each trained model's mean GLUE dev score",
  valid_ppl: "each trained model's WikiText-103 validation perplexity",
};

/** How the alpha column came about, in words. */
function alphaWords(report: EvalReport): string {
  const free = 'label-free rows use no labels at all (zerolm\'s default score is sqrt(S_attn * S_ffn) of log-det capacities);';
  const balance = "calibrated rows fit alpha of ZeroLM's score = alpha * S_attn + (1 - alpha) * S_ffn";
  if (report.alphaStrategy === 'fixed') return `${free}\n  ${balance.replace('fit alpha of', 'use a fixed alpha in')}, so they used no labels either.`;
  return (
    `${free}\n  ${balance} by ${report.alphaStrategy} on ${report.sampleSize} labelled architectures per split (the "labels" column), the only labels zerolm uses; ` +
    `every held-out number is measured on the other ${report.n - report.sampleSize}.`
  );
}

/** The lines above a table that say what it shows: what is ranked against what, the columns, alpha. */
function explanation(report: EvalReport): string[] {
  const { name, higherIsBetter } = report.label;
  return [
    `Ranked against: ${LABEL_WORDS[name] ?? name} (${name}, ${higherIsBetter ? 'higher' : 'lower'} is better), best model first.`,
    "Columns: how well each proxy's ranking agrees with it, from -1 (reversed) through 0 (unrelated) to 1 (same order); higher is better.",
    '  Spearman        rank correlation over the held-out architectures',
    '  Kendall         tau-b: share of pairs ordered like the label minus share ordered the other way',
    '  10%-PW Kendall  Kendall over only the pairs whose parameter counts differ by < 10% (pairs #params cannot order)',
    alphaWords(report),
  ];
}

/** One table per benchmark and build: every measure evaluated, then the baselines, best Kendall first. */
export function formatEvalTable(reports: readonly EvalReport[]): string {
  const out: string[] = [];
  const groups = new Map<string, EvalReport[]>();
  for (const report of reports) {
    const key = `${report.benchmark}\u0000${report.build}`;
    groups.set(key, [...(groups.get(key) ?? []), report]);
  }
  for (const group of groups.values()) {
    const first = group[0];
    const calibration = first.alphaStrategy === 'fixed' ? 'alpha fixed' : `calibrated rows choose alpha by ${first.alphaStrategy} on ${first.sampleSize} labelled architectures of each split`;
    out.push(`${first.benchmark}: ${first.n} architectures, build ${first.build}, ${first.mode} mode${first.perHead ? ', per-head attention' : ''}, seed policy ${first.seedPolicy}`);
    out.push(`held-out means ± sd over ${first.splits} splits (split seed ${first.seed}); ${calibration}; "all" = every architecture (label-free rows only)`);
    out.push(...explanation(first));
    const rows = evalRows(group);
    const width = Math.max(24, ...rows.map((r) => r.name.length));
    out.push(`${'proxy'.padEnd(width)}  labels  ${'Spearman'.padEnd(15)}  ${'Kendall'.padEnd(15)}  ${'10%-PW Kendall'.padEnd(15)}  Spearman (all)  Kendall (all)`);
    out.push('-'.repeat(width + 100));
    for (const r of rows) {
      out.push(`${r.name.padEnd(width)}  ${r.labels.padStart(6)}  ${format(r.heldOut.spearman).padEnd(15)}  ${format(r.heldOut.kendall).padEnd(15)}  ${format(r.heldOut.kendall10pw).padEnd(15)}  ${plain(r.all?.spearman).padEnd(14)}  ${plain(r.all?.kendall)}`);
    }
    out.push('');
  }
  return out.join('\n');
}
