/**
 * Calibrating alpha on an embedded benchmark. It lives with the benchmarks rather than in calibrate/: calibrate/
 * knows labelled plans and calibration files, eval/ knows benchmarks, and eval depends on calibrate, never the reverse.
 */
import { calibrateOnPlans, type CalibrateBenchmarkOptions, type CalibrationFile } from '../calibrate/file';
import { loadBenchmark } from './benchmarks';
import { benchmarkPlans } from './evaluate';

/** `zerolm calibrate --benchmark NAME`: alpha fitted on a sample of an embedded benchmark's labelled architectures. */
export async function calibrateBenchmark(name: string, options: CalibrateBenchmarkOptions = {}): Promise<CalibrationFile> {
  const benchmark = loadBenchmark(name, options.dataDir);
  const plans = benchmarkPlans(benchmark, options.build);
  const entries = benchmark.entries.map((e, i) => ({ id: e.id, plan: plans[i], label: e.label }));
  return calibrateOnPlans(entries, benchmark.higherIsBetter, { benchmark: benchmark.name }, options);
}
