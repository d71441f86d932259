/** Capacity measures (one registry) and their Marchenko-Pastur analytic expectations. */
export * from './measures';
export * from './analytic';
export {
  marchenkoPasturEdges,
  mpDensity,
  mpExpectation,
  mpSingularValueExpectation,
  mpShannonTransform,
  mpSingularValueMoments,
  mpCdf,
  mpQuantile,
  mpEnergyQuantile,
} from './marchenko-pastur';
export { integrate } from './quadrature';
