/** Score against ground truth, coloured by layer count: vega-lite compiled and rendered in Node (SVG; PNG via resvg). */
import { promises as fs } from 'node:fs';
import { ZeroLMError } from '../errors';
import { componentsOfPlans, resolveScoreOptions, withAlpha, type ScoreOptions } from '../proxy/score';
import { benchmarkPlans } from './evaluate';
import { loadBenchmark } from './benchmarks';
import { kendallTauB, spearman } from './rank';

export interface PlotPoint {
  id: string;
  score: number;
  label: number;
  layers: number;
}

export async function renderScatter(points: readonly PlotPoint[], title: string, labelName: string, format: 'svg' | 'png'): Promise<Buffer> {
  const vegaLite = await import('vega-lite');
  const vega = await import('vega');
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 520,
    height: 360,
    background: 'white',
    data: { values: points },
    mark: { type: 'point', filled: true, opacity: 0.7, size: 30 },
    encoding: {
      x: { field: 'score', type: 'quantitative', title: 'zerolm score', scale: { zero: false } },
      y: { field: 'label', type: 'quantitative', title: labelName, scale: { zero: false } },
      color: { field: 'layers', type: 'ordinal', title: 'layers' },
      tooltip: [{ field: 'id' }, { field: 'score' }, { field: 'label' }],
    },
  };
  const compiled = vegaLite.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  if (format === 'svg') return Buffer.from(svg, 'utf8');
  const { Resvg } = await import('@resvg/resvg-js');
  return Buffer.from(new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 } }).render().asPng());
}

export async function plotBenchmark(name: string, file: string, options: ScoreOptions & { dataDir?: string }): Promise<void> {
  const format = file.toLowerCase().endsWith('.png') ? 'png' : file.toLowerCase().endsWith('.svg') ? 'svg' : undefined;
  if (!format) throw new ZeroLMError('E_ARGUMENT', `plot file must end in .svg or .png, got ${file}`, { file, field: 'plot' });
  const benchmark = loadBenchmark(name, options.dataDir);
  const resolved = resolveScoreOptions(options);
  const plans = benchmarkPlans(benchmark, options.build);
  const scores = (await componentsOfPlans(plans, resolved)).map((c) => withAlpha(c, resolved).score);
  const points = benchmark.entries.map((e, i) => ({ id: e.id, score: scores[i], label: e.label, layers: plans[i].layers.length }));
  const oriented = points.map((p) => (benchmark.higherIsBetter ? p.label : -p.label));
  const title = `${benchmark.name} (${plans[0]?.build}): ${resolved.measure.name}, alpha ${resolved.alpha.toFixed(2)} — Spearman ${spearman(scores, oriented).toFixed(3)}, Kendall ${kendallTauB(scores, oriented).toFixed(3)} (all ${points.length})`;
  const image = await renderScatter(points, title, benchmark.labelName, format);
  try {
    await fs.writeFile(file, image);
  } catch (cause) {
    throw new ZeroLMError('E_IO', `cannot write plot ${file}: ${(cause as Error).message}`, { file });
  }
}
