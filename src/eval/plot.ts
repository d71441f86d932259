/** Score against ground truth, coloured by layer count: vega-lite compiled and rendered in Node (SVG; PNG via resvg). */
import { promises as fs } from 'node:fs';
import { ZeroLMError } from '../errors';
import { componentsOfPlans, resolveScoreOptions, withAlpha, type ScoreOptions } from '../proxy/score';
import { benchmarkPlans } from './evaluate';
import { loadBenchmark } from './benchmarks';
import { kendallTauB, spearman } from '../stats/rank';

export interface PlotPoint {
  id: string;
  score: number;
  label: number;
  layers: number;
}

export type PlotFormat = 'svg' | 'png';

/** The plot's format, from the file's extension. */
export function plotFormatOf(file: string): PlotFormat {
  const lower = file.toLowerCase();
  if (lower.endsWith('.png')) return 'png';
  if (lower.endsWith('.svg')) return 'svg';
  throw new ZeroLMError('E_ARGUMENT', `plot file must end in .svg or .png, got ${file}`, { file, field: 'plot' });
}

/**
 * The optional packages (peer dependencies, not installed with zerolm) a plot needs: vega-lite compiles the chart,
 * vega renders it as SVG, resvg rasterises PNG.
 */
export const PLOT_PACKAGES: Readonly<Record<PlotFormat, readonly string[]>> = { svg: ['vega', 'vega-lite'], png: ['vega', 'vega-lite', '@resvg/resvg-js'] };

/**
 * Loads what a plot to `file` needs, or throws one E_UNSUPPORTED naming the missing packages and how to install
 * them. Callers run it before any work, so that a missing package costs no scoring.
 */
export async function requirePlotPackages(file: string): Promise<void> {
  const needed = PLOT_PACKAGES[plotFormatOf(file)];
  const missing: string[] = [];
  for (const name of needed) {
    try {
      await import(name);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException)?.code;
      if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') throw cause;
      missing.push(name);
    }
  }
  if (missing.length > 0) {
    throw new ZeroLMError(
      'E_UNSUPPORTED',
      `plotting needs the optional packages ${needed.join(', ')}, and ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed: run \`npm install ${needed.join(' ')}\` in your project`,
      { field: 'plot' },
    );
  }
}

/** Axis titles of a scatter: x shows each point's `score`, y its `label`, colour its `layers`. */
export interface ScatterAxes {
  x: string;
  y: string;
}

export async function renderScatter(points: readonly PlotPoint[], title: string, labelName: string, format: PlotFormat, axes: ScatterAxes = { x: 'zerolm score', y: labelName }): Promise<Buffer> {
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
      x: { field: 'score', type: 'quantitative', title: axes.x, scale: { zero: false } },
      y: { field: 'label', type: 'quantitative', title: axes.y, scale: { zero: false } },
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
  const format = plotFormatOf(file);
  await requirePlotPackages(file);
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
