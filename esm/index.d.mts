// Types of the ES module entry point: those of the CommonJS build it re-exports.
export * from '../dist/index.js';
import * as zerolm from '../dist/index.js';
export default zerolm;
