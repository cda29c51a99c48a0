export * from './api/index.js';
export * from './estimate.js';
export * from './expression-limits.js';
export * from './flow.js';
export * from './json-schema.js';
export * from './nodes/index.js';
export * from './validate.js';
export * from './vocabulary.js';
