import type { Clock } from './ports.js';

/** Thrown into waits when a run is cancelled. */
export class Cancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'Cancelled';
  }
}

/** Resolves after `ms` on the given clock; rejects with Cancelled when the signal aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new Cancelled());
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(id);
      reject(new Cancelled());
    };
    const id = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Waits until the clock reads `deadline` (a wait kept as data, so it can be re-armed after a restart). */
export async function sleepUntil(clock: Clock, deadline: number, signal?: AbortSignal): Promise<void> {
  // a timer may fire a millisecond early by the wall clock: wait again until the deadline has truly passed
  while (clock.now() < deadline) await sleep(clock, deadline - clock.now(), signal);
  if (signal?.aborted) throw new Cancelled();
}
