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

/**
 * The first second from which every 5-second window has accepted writes a second within [low, high]
 * and fewer than 5% of its requests refused (`ok` and `refused` per second); -1 if none.
 */
export function convergedAt(ok: number[], refused: number[], low: number, high: number): number {
  const sum = (a: number[], from: number) => a.slice(from, from + 5).reduce((x, y) => x + y, 0);
  const steady = (t: number) => {
    const writes = sum(ok, t);
    const no = sum(refused, t);
    return writes / 5 >= low && writes / 5 <= high && no < 0.05 * (writes + no);
  };
  for (let s = 0; s + 5 <= ok.length; s++) {
    let holds = true;
    for (let t = s; t + 5 <= ok.length && holds; t += 5) holds = steady(t);
    if (holds) return s;
  }
  return -1;
}
