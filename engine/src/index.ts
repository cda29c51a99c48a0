/**
 * The engine's public surface: what the server, the editor and the tests across packages use. The
 * engine's own modules import each other directly; add an export here only for a user outside.
 */
export { type BreakerChange, BreakerRegistry, type LearnedBreakerState } from './breaker.js';
export { checkFlowForRun } from './check.js';
export {
  maskHeaders,
  type NodeTestData,
  TEST_CAPTURE_MAX,
  type TestOptions,
} from './execution/test-run.js';
export type { FilePort } from './files.js';
export * from './ports.js';
export { retryAfterMs } from './retry.js';
export { type RunHandle, type RunOptions, type RunResult, startRun } from './run.js';
