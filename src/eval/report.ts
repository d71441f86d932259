/** Human-readable tables of evaluation reports (the CLI prints these; --json prints the reports themselves). */
import type { EvalReport, HeldOut, MeanSd } from './evaluate';

const format = (value: MeanSd): string => (Number.isFinite(value.mean) ? `${value.mean.toFixed(3)} ± ${value.sd.toFixed(3)}` : 'n/a');

function row(name: string, heldOut: HeldOut, width: number): string {
  return `${name.padEnd(width)}  ${format(heldOut.spearman).padEnd(15)}  ${format(heldOut.kendall).padEnd(15)}  ${format(heldOut.kendall10pw)}`;
}

/** What a benchmark's label is, in words, by its name; another label is named as it is. */
const LABEL_WORDS: Readonly<Record<string, string>> = {
  glue: "each trained model's mean GLUE dev score",
  valid_ppl: "each trained model's WikiText-103 validation perplexity",
};

/** How the alpha column came about, in words. */
function alphaWords(report: EvalReport): string {
  const balance = "alpha: zerolm's attention/FFN balance, score = alpha * S_attn + (1 - alpha) * S_ffn";
  if (report.alphaStrategy === 'fixed') return `${balance}; fixed, so zerolm used no labels.`;
  return (
    `${balance};\n  chosen by ${report.alphaStrategy} on ${report.sampleSize} labelled architectures per split, the only labels zerolm uses; ` +
    `the numbers are measured on the other ${report.n - report.sampleSize}.`
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
    const calibration = first.alphaStrategy === 'fixed' ? 'alpha fixed' : `alpha by ${first.alphaStrategy} on ${first.sampleSize} labelled architectures`;
    out.push(`${first.benchmark}: ${first.n} architectures, build ${first.build}, ${first.mode} mode${first.perHead ? ', per-head attention' : ''}, seed policy ${first.seedPolicy}`);
    out.push(`held-out means ± sd over ${first.splits} splits (split seed ${first.seed}); ${calibration}`);
    out.push(...explanation(first));
    const rows: Array<{ name: string; heldOut: HeldOut }> = [
      ...group.map((r) => ({ name: `zerolm ${r.measure} (alpha ${r.alpha.mean.toFixed(2)} ± ${r.alpha.sd.toFixed(2)})`, heldOut: r.heldOut })),
      ...Object.entries(first.baselines).map(([name, heldOut]) => ({ name, heldOut })),
    ].sort((a, b) => (b.heldOut.kendall.mean || -2) - (a.heldOut.kendall.mean || -2));
    const width = Math.max(24, ...rows.map((r) => r.name.length));
    out.push(`${'proxy'.padEnd(width)}  ${'Spearman'.padEnd(15)}  ${'Kendall'.padEnd(15)}  10%-PW Kendall`);
    out.push('-'.repeat(width + 52));
    for (const r of rows) out.push(row(r.name, r.heldOut, width));
    out.push('');
  }
  return out.join('\n');
}
