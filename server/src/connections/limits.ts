import { setTimeout as delay } from 'node:timers/promises';
import type { ConnectionLimits, LimitSettings, Permit } from '@sluice/engine';
import { lateAllowedMs, MAX_MISSED_SLOTS, PACE_SHARE, paceIntervalMs } from '../storage/pacing.js';

/** The time the limits keep: injected so that tests measure exact spacing on a simulated clock. */
export interface LimitsClock {
  now(): number;
  /** Resolves after `ms`; rejects once `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemLimitsClock: LimitsClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => delay(ms, undefined, signal ? { signal } : undefined),
};

/** A caller waiting for a place, with the concurrency it may have. */
interface Waiter {
  max: () => number | undefined;
  admit(): void;
}

/**
 * Places given first come, first served, at most `max` held at once: a semaphore whose maximum each
 * caller gives as a function (read when it asks, and again while it waits), so a maximum that is
 * edited or learnt meanwhile applies.
 */
export class Places {
  /** Places given and not yet freed. */
  held = 0;
  private readonly queue: Waiter[] = [];

  /** Callers waiting for a place. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Takes a place: at once if one is free and nobody waits before, else in turn; rejects once `signal` aborts. */
  take(max: () => number | undefined, signal?: AbortSignal, onWait?: (until: number | null) => void): Promise<void> {
    const limit = max();
    if (limit === undefined || (this.held < limit && this.queue.length === 0)) {
      this.held++;
      return Promise.resolve();
    }
    onWait?.(null);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        max,
        admit: () => {
          signal?.removeEventListener('abort', leave);
          resolve();
        },
      };
      const leave = () => {
        this.queue.splice(this.queue.indexOf(waiter), 1);
        // the next in line may fit where this one did not
        this.admit();
        reject(abortReason(signal as AbortSignal));
      };
      this.queue.push(waiter);
      signal?.addEventListener('abort', leave, { once: true });
    });
  }

  free(): void {
    this.held--;
    this.admit();
  }

  /** Gives free places to the callers waiting, in turn (also after a maximum was raised). */
  admit(): void {
    for (;;) {
      const first = this.queue[0];
      if (!first) return;
      const limit = first.max();
      if (limit !== undefined && this.held >= limit) return;
      this.queue.shift();
      this.held++;
      first.admit();
    }
  }
}

/** One connection's state: its places and its pace. */
interface Lane {
  places: Places;
  /** The pace's next free slot: the earliest time the next permit may start. */
  next: number;
}

/**
 * Connection limits kept in this process, shared by all its runs: per connection, a semaphore of
 * `maxConcurrent` places given first come, first served, and a pacer for `maxPerSecond` that spaces
 * permits evenly (a generic cell rate: each permit takes the slot max(now, next) and moves next on by
 * 1000/maxPerSecond ms), so even a burst of runs starting together sends no burst. A permit takes
 * its place first and then its slot, so the requests in flight never pass the limit while they wait
 * for the pace. With several processes on one database each keeps its own: the limits hold per
 * process, not across them.
 */
export class LocalLimits implements ConnectionLimits {
  private readonly lanes = new Map<string, Lane>();

  constructor(
    private readonly clock: LimitsClock = systemLimitsClock,
    /** The share of `maxPerSecond` paced at (`PACE_SHARE`; tests of the spacing itself give 1). */
    private readonly paceShare = PACE_SHARE,
  ) {}

  async acquire(
    connection: string,
    limits: LimitSettings,
    signal?: AbortSignal,
    onWait?: (until: number | null) => void,
  ): Promise<Permit> {
    if (signal?.aborted) throw abortReason(signal);
    const start = this.clock.now();
    const lane = this.lane(connection);
    // the concurrency this caller was given: a limit edited meanwhile applies to later callers
    const max = limits.maxConcurrent;
    await lane.places.take(() => max, signal, onWait);
    try {
      await this.pace(lane, limits.maxPerSecond, signal, onWait);
    } catch (err) {
      this.free(connection, lane);
      throw err;
    }
    let released = false;
    return {
      waitedMs: this.clock.now() - start,
      release: () => {
        if (released) return;
        released = true;
        this.free(connection, lane);
      },
    };
  }

  /** Permits given and not yet released on a connection (for tests and status displays). */
  held(connection: string): number {
    return this.lanes.get(connection)?.places.held ?? 0;
  }

  private lane(connection: string): Lane {
    let lane = this.lanes.get(connection);
    if (!lane) {
      lane = { places: new Places(), next: Number.NEGATIVE_INFINITY };
      this.lanes.set(connection, lane);
    }
    return lane;
  }

  /**
   * Waits for the pace's next slot; a caller that gives up gives its slot back if none was taken
   * after it. A caller that comes to its slot late (the process busy, its timer fired late) lets the
   * slot go and takes the next free one, at most `MAX_MISSED_SLOTS` times: slots missed in a stall
   * are not spent together after it, so a stall sends no burst.
   */
  private async pace(
    lane: Lane,
    perSecond: number | undefined,
    signal: AbortSignal | undefined,
    onWait: ((until: number | null) => void) | undefined,
  ): Promise<void> {
    if (!perSecond) return;
    const interval = paceIntervalMs(perSecond, this.paceShare);
    for (let missed = 0; ; missed++) {
      const now = this.clock.now();
      const slot = Math.max(now, lane.next);
      const after = slot + interval;
      lane.next = after;
      if (slot <= now) return;
      onWait?.(slot);
      try {
        await this.clock.sleep(slot - now, signal);
      } catch (err) {
        if (lane.next === after) lane.next = slot;
        throw signal?.aborted ? abortReason(signal) : err;
      }
      if (this.clock.now() - slot <= lateAllowedMs(interval) || missed >= MAX_MISSED_SLOTS) return;
    }
  }

  private free(connection: string, lane: Lane): void {
    lane.places.free();
    if (lane.places.held === 0 && lane.places.waiting === 0 && lane.next <= this.clock.now())
      this.lanes.delete(connection);
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}
