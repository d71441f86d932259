/** zerolm: rank Transformer architectures without training and without data. */
export * from './errors';
export type * from './arch/types';
export { buildPlan, detectFamily, families } from './arch';
export { readArchitectures, readStream, type InputRecord, type InputFormat } from './arch/input';
export { resolveInit, parseInit, varianceOf, type Distribution, type SeedPolicy } from './weights/init';
export { measures, measureNames, getMeasure, type Measure, type MeasureName, type MeasureOptions } from './capacity/measures';
export { CapacityCache } from './proxy/cache';
export { score, combine, DEFAULTS, type Score, type ScoreOptions, type LayerScore, type ScoreMode } from './proxy/score';
export { scoreMany, isScoreError, type ScoreRecord, type ScoreErrorRecord, type ScoreManyOptions } from './proxy/many';
export { calibrateAlpha, alphaStrategies, type AlphaStrategy, type Calibration } from './calibrate';
export { calibrateBenchmark, readCalibration, writeCalibration, type CalibrationFile } from './calibrate/file';
export { evaluate, type EvalReport } from './eval/evaluate';
export { formatEvalTable } from './eval/report';
export { loadBenchmark, listBenchmarks } from './eval/benchmarks';
export { loadPeerScores } from './eval/peers';
export { spearman, kendallTauB, kendallWithinParamBand, topKOverlap, bootstrapCI, ranks } from './eval/rank';
export { spectra, spectraSync, fillNormal, fillUniform, simd, type Spectrum, type SpectrumJob } from './native';
