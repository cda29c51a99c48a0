export { Breaker, BreakerRegistry, type BreakerSettings, breakerMachine, DEFAULT_BREAKER } from './breaker.js';
export { checkFlowForRun } from './check.js';
export { Cancelled, sleep, sleepUntil, systemClock } from './clock.js';
export { type ExecutionOptions, type ExecutionResult, execute } from './executor.js';
export { checkExpression, compileExpression, type Expression, ExpressionError } from './expressions.js';
export {
  csvRecords,
  FileFormatError,
  type FilePort,
  type FileRecord,
  formatCsvRow,
  jsonlRecords,
  type LinePosition,
  MemoryFilePort,
  readLines,
  type TextLine,
} from './files.js';
export { Gate } from './gate.js';
export { runtimes } from './nodes/index.js';
export * from './ports.js';
export { canonicalJson, readPath, recordKey } from './record-key.js';
export { backoffMs, isRetryableStatus, type RetryPolicy, retryAfterMs } from './retry.js';
export { type RunHandle, type RunOptions, type RunResult, startRun, statusOf } from './run.js';
export { runMachine } from './run-machine.js';
