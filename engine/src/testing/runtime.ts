import type { Runtime } from '../ports.js';
import { sha256Hex } from './sha256.js';

/**
 * The runtime for engine tests: the same hash as the server's (so record keys are the ones a server
 * stores), and a yield that lets `SimulatedClock.run` settle pending work as it does between timers.
 */
export const testRuntime: Runtime = {
  hash: sha256Hex,
  yield: () => new Promise<void>((resolve) => setImmediate(resolve)),
  monotonicNow: () => performance.now(),
};
