import { createHash } from 'node:crypto';
import type { Clock, Runtime } from '@sluice/engine';

/** The real clock, for runs in this process (tests of the engine use a simulated one). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/**
 * The engine's runtime on Node: crypto's SHA-256 (record keys are cut from it), a turn of the event
 * loop with setImmediate (after pending I/O, sooner than a timer), and performance.now.
 */
export const nodeRuntime: Runtime = {
  hash: (text) => createHash('sha256').update(text).digest('hex'),
  yield: () => new Promise<void>((resolve) => setImmediate(resolve)),
  monotonicNow: () => performance.now(),
};
