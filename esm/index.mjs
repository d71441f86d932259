// The ES module entry point: the CommonJS build re-exported, so that `import` and `require` share one copy of
// the library (one addon, one set of classes: a ZeroLMError is the same class from either side).
export * from '../dist/index.js';
export { default } from '../dist/index.js';
