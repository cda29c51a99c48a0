import type { Clock } from '@sluice/engine';
import type { LimitsClock } from './limits.js';

/** The limits' clock on a simulated one: `now` and a sleep that an abort ends. */
export function limitsClock(clock: Clock): LimitsClock {
  return {
    now: () => clock.now(),
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          clock.clearTimeout(id);
          reject(new Error('aborted'));
        };
        const id = clock.setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, ms);
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
  };
}
