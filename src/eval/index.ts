export {
  ranks,
  pearson,
  spearman,
  kendallTauB,
  kendallTauA,
  kendallTauBNaive,
  kendallWithinParamBand,
  topKOverlap,
  bootstrapCI,
} from '../stats/rank';
export type { PairedStatistic, BootstrapOptions, BootstrapInterval } from '../stats/rank';
export {
  loadBenchmark,
  listBenchmarks,
  isBenchmarkName,
  checkBenchmarkName,
  defaultBenchmarkDir,
  loadLtsParamsSummary,
  compareLtsIds,
  architectureKey,
  duplicateGroups,
} from './benchmarks';
export type { BenchmarkName, LtsBenchmarkName, BenchmarkEntry, Benchmark, LtsParamsSummary } from './benchmarks';
export { loadPeerScores } from './peers';
export { nscScore, nscScores, nscPsi, NSC_FAMILIES } from './nsc';
export type { PeerScores } from './peers';
