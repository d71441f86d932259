/** Human-readable tables of evaluation reports (the CLI prints these; --json prints the reports themselves). */
import type { EvalReport, HeldOut, MeanSd } from './evaluate';

const format = (value: MeanSd): string => (Number.isFinite(value.mean) ? `${value.mean.toFixed(3)} ± ${value.sd.toFixed(3)}` : 'n/a');

function row(name: string, heldOut: HeldOut, width: number): string {
  return `${name.padEnd(width)}  ${format(heldOut.spearman).padEnd(15)}  ${format(heldOut.kendall).padEnd(15)}  ${format(heldOut.kendall10pw)}`;
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
