/**
 * zerolm: rank Transformer architectures without training and without data.
 *
 * The exports follow the data flow: an architecture becomes a plan (architectures), its matrices' capacities are
 * measured (capacities), summed into a score (scoring), for one architecture, a stream, or a whole search space at
 * once (spaces), which search explores and calibration and evaluation judge against labels; io reads the inputs and
 * checkpoints, native is the engine underneath.
 */

// Contracts every part shares: one error class with stable codes, one progress callback.
export * from './errors';
export type { Progress, OnProgress } from './progress';

// Architectures: any input a builder accepts -> ModelPlan (layers of attention and FFN matrices), and the weights' init.
export type * from './arch/types';
export { buildPlan, detectFamily, families, BuildMemo } from './arch';
export { resolveInit, parseInit, varianceOf, type Distribution, type SeedPolicy } from './weights/init';

// Capacities: the measures C(W) of one matrix's spectrum, and their Marchenko-Pastur expectations.
export { measures, measureNames, getMeasure, validateMeasureOptions, measureReads, type Measure, type MeasureName, type MeasureOptions, type SpectrumStats } from './capacity/measures';
export { analyticSpectrumStats } from './capacity/analytic';

// Scoring: one architecture, streams of them (one contract: src/proxy/many.ts), real weights, and the capacity cache.
export { score, combine, DEFAULTS, scoreModes, type Score, type ScoreOptions, type LayerScore, type ScoreMode } from './proxy/score';
export { scoreMany, scoreBatches, isScoreError, type ScoreRecord, type ScoreErrorRecord, type ScoreManyOptions } from './proxy/many';
export { scoreJsonLines, defaultScoreWorkers, type EncodedScores, type ScoreJsonLinesOptions } from './proxy/parallel';
export { scoreWeights, type WeightsScore, type WeightsScoreOptions, type PruneSpec, type MatrixCapacity } from './proxy/real-weights';
export { CapacityCache } from './proxy/cache';
export { loadCacheFile, saveCacheFile } from './proxy/cache-file';

// Spaces: compiled search spaces (typed arrays of choices in, scores out), the FlexiBERT columnar scorer, samplers.
export { compileSpace, builtinSpace, builtinSpaceNames, readSpaceDefinition, type CompiledSpace, type CompileOptions, type SpaceCandidates, type SpaceScores, type SpaceTables, type SpaceDefinition } from './space';
export { createFlexibertScorer, randomFlexibertColumns, type FlexibertColumns, type ColumnarScores, type FlexibertScorer } from './space/flexibert';
export { sampleSpace, spaceNames, type SpaceName } from './search/sample';

// Search: the best candidates of a compiled space under budgets (exact, evolutionary, random).
export { search, searchBest, type SearchOptions, type SearchResult, type SearchPick, type Budgets } from './search';
export type { SearchProgress } from './search/search';

// Calibration and evaluation: alpha from labels, benchmarks and peers, and the rank statistics that judge a proxy.
export { calibrateAlpha, alphaStrategies, type AlphaStrategy, type Calibration, type CalibrationCriterion } from './calibrate';
export { readCalibration, writeCalibration, type CalibrationFile } from './calibrate/file';
export { calibrateBenchmark } from './eval/calibrate-benchmark';
export { evaluate, type EvalReport, type EvalProgress } from './eval/evaluate';
export { formatEvalTable } from './eval/report';
export { loadBenchmark, listBenchmarks } from './eval/benchmarks';
export { loadPeerScores } from './eval/peers';
export { nscScore, nscScores, nscPsi } from './eval/nsc';
export { spearman, kendallTauB, kendallTauA, kendallWithinParamBand, topKOverlap, bootstrapCI, ranks } from './stats/rank';

// Input and output: architecture files and streams (JSON, JSONL, YAML), safetensors checkpoints.
export { readArchitectures, readArchitectureBatches, readStream, openSource, readOpenedBatches, type InputRecord, type InputFormat, type OpenedSource } from './io/input';
export { WeightStore, SafetensorsFile, type TensorEntry } from './io/safetensors';

// Native engine: batched spectra of many matrices, seeded fills, tensor conversion, which SIMD path runs.
export { spectra, spectraSync, fillNormal, fillUniform, convertTensor, type TensorDtype, simd, defaultThreads, concurrency, availableCores, type Spectrum, type SpectrumJob, type SpectrumRoute, type SpectrumGenerator, type MatrixRecipe, type MatrixValues } from './native';
