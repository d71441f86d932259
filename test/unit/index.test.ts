/** The package entry point exports every function the README's Library section names. */
import * as zerolm from '../../src';

const documented = [
  'score', 'scoreMany', 'scoreBatches', 'evaluate', 'calibrateAlpha', 'calibrateBenchmark', 'readCalibration', 'buildPlan',
  'detectFamily', 'families', 'readArchitectures', 'readArchitectureBatches', 'measures', 'getMeasure', 'validateMeasureOptions',
  'createFlexibertScorer', 'CapacityCache', 'formatEvalTable', 'spearman', 'kendallTauB', 'kendallTauA',
  'kendallWithinParamBand', 'topKOverlap', 'bootstrapCI', 'spectra', 'spectraSync', 'fillNormal', 'fillUniform', 'simd',
  'ZeroLMError', 'loadBenchmark', 'loadPeerScores', 'nscScore', 'nscScores', 'nscPsi',
];

describe('package entry point', () => {
  it.each(documented)('exports %s', (name) => {
    expect((zerolm as Record<string, unknown>)[name]).toBeDefined();
  });
});
