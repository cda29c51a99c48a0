import { sleep } from '../clock.js';
import type { Clock, ConnectionLimits, LimitSettings, Permit } from '../ports.js';

interface Lane {
  active: number;
  queue: (() => void)[];
  nextSlot: number;
}

/**
 * Connection limits kept in memory on the given clock, for engine tests: first come, first served
 * for `maxConcurrent`, one permit every 1000/maxPerSecond ms for `maxPerSecond`. `held` says how many
 * permits are out per connection, so a test can see every one given back.
 */
export function memoryLimits(clock: Clock): ConnectionLimits & { held(connection: string): number } {
  const lanes = new Map<string, Lane>();
  const lane = (name: string): Lane => {
    let found = lanes.get(name);
    if (!found) {
      found = { active: 0, queue: [], nextSlot: 0 };
      lanes.set(name, found);
    }
    return found;
  };
  return {
    held: (name) => lanes.get(name)?.active ?? 0,
    async acquire(
      connection: string,
      limits: LimitSettings,
      signal?: AbortSignal,
      onWait?: (until: number | null) => void,
    ) {
      const l = lane(connection);
      const start = clock.now();
      const max = limits.maxConcurrent ?? Number.POSITIVE_INFINITY;
      if (l.active >= max || l.queue.length > 0) {
        onWait?.(null);
        await new Promise<void>((resolve, reject) => {
          const take = () => {
            signal?.removeEventListener('abort', leave);
            resolve();
          };
          const leave = () => {
            l.queue.splice(l.queue.indexOf(take), 1);
            reject(new Error('aborted'));
          };
          l.queue.push(take);
          signal?.addEventListener('abort', leave, { once: true });
        });
      } else l.active++;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        const next = l.queue.shift();
        if (next) next();
        else l.active--;
      };
      if (limits.maxPerSecond) {
        const slot = Math.max(clock.now(), l.nextSlot);
        l.nextSlot = slot + 1000 / limits.maxPerSecond;
        if (slot > clock.now()) {
          onWait?.(slot);
          try {
            await sleep(clock, slot - clock.now(), signal);
          } catch (err) {
            release();
            throw err;
          }
        }
      }
      const permit: Permit = { waitedMs: clock.now() - start, release };
      return permit;
    },
  };
}
