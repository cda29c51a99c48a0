import type { Clock } from '../ports.js';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A clock that only moves when told to. `run(promise)` alternates between letting pending promise
 * work settle and jumping to the next timer, so a whole run completes in simulated time.
 */
export class SimulatedClock implements Clock {
  private current: number;
  private timers: Timer[] = [];
  private nextId = 1;

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): number {
    const timer = { id: this.nextId++, at: this.current + Math.max(0, ms), fn };
    this.timers.push(timer);
    this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
    return timer.id;
  }

  clearTimeout(id: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== id);
  }

  /** Number of timers waiting. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer due on the way in order. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await settle();
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.current = next.at;
      next.fn();
    }
    this.current = target;
    await settle();
  }

  /** Drives simulated time until `work` settles; fails if nothing is left to wake it. */
  async run<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const watched = work.finally(() => {
      done = true;
    });
    watched.catch(() => {});
    while (!done) {
      await settle();
      if (done) break;
      const next = this.timers.shift();
      if (!next) {
        // work that runs long without timers yields to the event loop now and then: give it real time
        // (up to a second) to finish or to set a timer before calling it stuck
        const giveUpAt = performance.now() + 1000;
        while (!done && this.timers.length === 0 && performance.now() < giveUpAt) await settle();
        if (done) break;
        if (this.timers.length) continue;
        throw new Error('simulated clock: the work is waiting on something other than time');
      }
      this.current = Math.max(this.current, next.at);
      next.fn();
    }
    return watched;
  }
}

/** Lets every promise chain that can progress without time do so. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
