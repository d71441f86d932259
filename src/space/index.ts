/** Compiled search spaces (built-in and user-described): tables per layer kind, columnar scoring. */
export { compileSpace, type CompiledSpace, type CompileOptions, type PackedTables, type SpaceCandidates, type SpaceScores, type SpaceTables } from './compiled';
export { builtinSpace, builtinSpaceNames, readSpaceDefinition, composeArchitecture, spaceFamilies, type BuiltinSpaceName, type SpaceDefinition, type SpaceFamily, type Choices } from './definition';
export { FLEXIBERT_SPACE, LTS_SPACE, LTS_TXL_SPACE, DEFAULT_DECODER_RANGES, type DecoderRanges } from './ranges';
