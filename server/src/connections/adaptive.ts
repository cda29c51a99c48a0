import {
  type ConnectionLimits,
  type LimitSettings,
  type Pace,
  type Permit,
  type PermitAnswer,
  retryAfterMs,
} from '@sluice/engine';
import { type LimitsClock, Places, systemLimitsClock } from './limits.js';

/** A cut keeps this share of the rate the system was seen to take (multiplicative decrease). */
export const CUT_TO = 0.9;
/** Below this share of the learnt ceiling the pace comes back quickly; above it, it probes slowly. */
const NEAR = 0.95;
/** At most one cut, and one raise, per this many ms: answers to requests sent before a change say nothing of it. */
export const STEP_MS = 1000;
/** The first probe above the ceiling: this share of the rate a second; halved each time the ceiling holds. */
const PROBE = 0.02;
const MIN_PROBE = 0.0025;
/** A second cut this close to the last ceiling confirms it (and slows the probing). */
const SAME_CEILING = 0.1;
/** Never slower than this (requests a second): a system that refuses everything still gets asked. */
const MIN_RATE = 0.2;
/** Without a ceiling yet (never throttled), a pace that was cut for latency grows by this share a step. */
const GROWTH = 0.1;
/** Latency rising past max(this × its floor, floor + LATENCY_SLACK_MS) counts as a sign of overload. */
const LATENCY_FACTOR = 3;
const LATENCY_SLACK_MS = 250;

/** What the pace knows of one connection. */
interface Lane {
  /** Requests a second now; null while nothing has said to slow down (the maxima alone hold). */
  rate: number | null;
  /** Requests at once now; null: not held back. */
  concurrency: number | null;
  /** The rate the system was last seen to take when it said "slower". */
  ceiling: number | null;
  probe: number;
  reason: string;
  /** The next free slot of the pace. */
  next: number;
  /** No request before this (Retry-After, an exhausted rate-limit window). */
  holdUntil: number;
  /** A rate the system announced for its current window (remaining / reset), until `capUntil`. */
  cap: number | null;
  capUntil: number;
  lastCut: number;
  lastRaise: number;
  /** When each successful answer came, over the last STEP_MS. */
  accepted: number[];
  firstAnswer: number | null;
  latency: { floor: number | null; average: number | null };
  places: Places;
}

/**
 * Adaptive pacing per connection: in front of the configured limits (`inner`, which keep the maxima
 * across runs and processes), a pace that learns what the system takes, for connections whose limits
 * say `adaptive`. Additive increase, multiplicative decrease, of both the rate and the concurrency:
 *
 * - **slower** on a 429 or 503 (at most once a second): the ceiling is the rate the system accepted
 *   over the last second, and the pace drops to 90% of it; on `Retry-After`, no request until then;
 *   on `RateLimit-Remaining` / `X-RateLimit-Remaining` with a reset, no faster than what is left of
 *   the window over its time (none left: no request until the reset); on latency rising past three
 *   times its floor (and 250 ms over it), 90% of the pace;
 * - **faster** while the system keeps up: once a second, halfway back towards 95% of the ceiling, then
 *   probing above it by 2% a second, a probe that halves each time the same ceiling is met again (so
 *   a steady limit is met less and less often); never above the maxima.
 *
 * Each process learns for itself (with several workers on one database each finds its share, as
 * senders sharing a link do); the maxima are still kept by `inner` across all of them.
 */
export class AdaptiveLimits implements ConnectionLimits {
  private readonly lanes = new Map<string, Lane>();

  constructor(
    private readonly inner: ConnectionLimits,
    private readonly clock: LimitsClock = systemLimitsClock,
  ) {}

  async acquire(
    connection: string,
    limits: LimitSettings,
    signal?: AbortSignal,
    onWait?: (until: number | null) => void,
  ): Promise<Permit> {
    if (!limits.adaptive) return this.inner.acquire(connection, limits, signal, onWait);
    const start = this.clock.now();
    const lane = this.lane(connection, limits);
    await lane.places.take(() => lane.concurrency ?? undefined, signal, onWait);
    let outer: Permit;
    try {
      await this.slot(lane, signal, onWait);
      outer = await this.inner.acquire(connection, limits, signal, onWait);
    } catch (err) {
      this.free(lane);
      throw err;
    }
    let released = false;
    return {
      waitedMs: this.clock.now() - start,
      pace: this.paceOf(lane),
      release: (answer?: PermitAnswer) => {
        if (released) return;
        released = true;
        outer.release(answer);
        if (answer) this.learn(lane, limits, answer);
        this.free(lane);
      },
    };
  }

  /** The pace a connection keeps now (undefined: none learnt in this process). */
  current(connection: string): Pace | undefined {
    const lane = this.lanes.get(connection);
    return lane ? this.paceOf(lane) : undefined;
  }

  private paceOf(lane: Lane): Pace {
    return { perSecond: lane.rate, concurrency: lane.concurrency, reason: lane.reason };
  }

  private lane(connection: string, limits: LimitSettings): Lane {
    let lane = this.lanes.get(connection);
    if (!lane) {
      lane = {
        rate: null,
        concurrency: null,
        ceiling: null,
        probe: PROBE,
        reason: 'start',
        next: Number.NEGATIVE_INFINITY,
        holdUntil: Number.NEGATIVE_INFINITY,
        cap: null,
        capUntil: Number.NEGATIVE_INFINITY,
        lastCut: Number.NEGATIVE_INFINITY,
        lastRaise: Number.NEGATIVE_INFINITY,
        accepted: [],
        firstAnswer: null,
        latency: { floor: null, average: null },
        places: new Places(),
      };
      this.lanes.set(connection, lane);
    }
    // a maximum lowered meanwhile holds at once
    if (lane.rate !== null && limits.maxPerSecond !== undefined) lane.rate = Math.min(lane.rate, limits.maxPerSecond);
    if (lane.concurrency !== null && limits.maxConcurrent !== undefined)
      lane.concurrency = Math.min(lane.concurrency, limits.maxConcurrent);
    return lane;
  }

  private free(lane: Lane): void {
    lane.places.free();
  }

  /** Waits for the pace's next slot (after any hold), spacing requests evenly at the current rate. */
  private async slot(lane: Lane, signal?: AbortSignal, onWait?: (until: number | null) => void): Promise<void> {
    const now = this.clock.now();
    const rate = this.rateNow(lane, now);
    const slot = Math.max(now, lane.holdUntil, rate === null ? now : lane.next);
    if (rate !== null) lane.next = slot + 1000 / rate;
    if (slot <= now) return;
    onWait?.(slot);
    await this.clock.sleep(slot - now, signal);
  }

  private rateNow(lane: Lane, now: number): number | null {
    if (lane.cap === null || now >= lane.capUntil) return lane.rate;
    return lane.rate === null ? lane.cap : Math.min(lane.rate, lane.cap);
  }

  /** What an answer says of the pace. */
  private learn(lane: Lane, limits: LimitSettings, answer: PermitAnswer): void {
    const now = this.clock.now();
    lane.firstAnswer ??= now;
    const held = this.obeyHeaders(lane, answer, now);
    if (answer.status === 429 || answer.status === 503) {
      this.cut(lane, now, held ? 'retry-after' : 'throttled', true);
      return;
    }
    if (answer.status === undefined || answer.status >= 500) return;
    lane.accepted.push(now);
    while ((lane.accepted[0] as number) <= now - STEP_MS) lane.accepted.shift();
    if (this.slowing(lane, answer.ms)) {
      this.cut(lane, now, 'latency', false);
      return;
    }
    this.raise(lane, limits, now);
  }

  /** Retry-After and the rate-limit headers, when the system sends them; whether Retry-After holds the lane. */
  private obeyHeaders(lane: Lane, answer: PermitAnswer, now: number): boolean {
    const h = lowerCased(answer.headers);
    const after = retryAfterMs(h['retry-after'], now);
    const holds = after !== undefined && (answer.status === 429 || answer.status === 503);
    if (holds) lane.holdUntil = Math.max(lane.holdUntil, now + after);
    const remaining = numberOf(h['ratelimit-remaining'] ?? h['x-ratelimit-remaining']);
    const resetRaw = numberOf(h['ratelimit-reset'] ?? h['x-ratelimit-reset']);
    if (remaining === undefined || resetRaw === undefined) return holds;
    // seconds until the window resets; some systems send the reset as a Unix time instead
    const resetMs = resetRaw > 1e9 ? resetRaw * 1000 - now : resetRaw * 1000;
    if (resetMs <= 0) return holds;
    if (remaining <= 0) {
      lane.holdUntil = Math.max(lane.holdUntil, now + resetMs);
      lane.reason = 'rate-limit-headers';
      return holds;
    }
    lane.cap = Math.max(MIN_RATE, remaining / (resetMs / 1000));
    lane.capUntil = now + resetMs;
    return holds;
  }

  /** Whether the answers have slowed down past their floor (a system straining before it refuses). */
  private slowing(lane: Lane, ms: number): boolean {
    const l = lane.latency;
    l.floor = l.floor === null ? ms : Math.min(ms, l.floor + (ms - l.floor) * 0.001);
    l.average = l.average === null ? ms : l.average * 0.9 + ms * 0.1;
    return l.average > Math.max(LATENCY_FACTOR * l.floor, l.floor + LATENCY_SLACK_MS);
  }

  /** Multiplicative decrease, at most once a step. */
  private cut(lane: Lane, now: number, reason: string, learnCeiling: boolean): void {
    if (now - lane.lastCut < STEP_MS) return;
    const seen = this.acceptedRate(lane, now);
    const from = lane.rate === null ? seen : Math.min(lane.rate, Math.max(seen, MIN_RATE));
    if (learnCeiling) {
      // met again near the same ceiling: the limit is steady, so probe it less often
      if (lane.ceiling !== null && Math.abs(from - lane.ceiling) <= SAME_CEILING * lane.ceiling)
        lane.probe = Math.max(MIN_PROBE, lane.probe / 2);
      lane.ceiling = Math.max(MIN_RATE, from);
    }
    lane.rate = Math.max(MIN_RATE, CUT_TO * Math.max(from, MIN_RATE));
    if (lane.places.held > 1)
      lane.concurrency = Math.max(1, Math.ceil(CUT_TO * (lane.concurrency ?? lane.places.held)));
    lane.reason = reason;
    lane.lastCut = now;
    lane.lastRaise = now;
    // the next slot at the new pace, not the old one's
    lane.next = Math.min(lane.next, now + 1000 / lane.rate);
  }

  /** Additive increase, once a step while the system keeps up. */
  private raise(lane: Lane, limits: LimitSettings, now: number): void {
    if (lane.rate === null || now - lane.lastRaise < STEP_MS) return;
    lane.lastRaise = now;
    const near = lane.ceiling === null ? null : NEAR * lane.ceiling;
    let rate: number;
    if (near !== null && lane.rate < near) rate = Math.max(lane.rate + 0.5, lane.rate + (near - lane.rate) / 2);
    else if (near !== null) rate = lane.rate * (1 + lane.probe);
    else rate = lane.rate * (1 + GROWTH);
    if (near !== null && lane.rate < near) rate = Math.min(rate, near);
    const max = limits.maxPerSecond;
    lane.rate = max !== undefined ? Math.min(rate, max) : rate;
    if (lane.concurrency !== null) {
      const next = lane.concurrency + 1;
      lane.concurrency = limits.maxConcurrent !== undefined ? Math.min(next, limits.maxConcurrent) : next;
      lane.places.admit();
    }
    lane.reason = 'recovering';
  }

  /**
   * Successful answers a second over the last step. Counted over the whole step even when the
   * connection is younger than that: a system that counts per second took that many in its second,
   * and an estimate on the low side is made good by the quick way back to the ceiling.
   */
  private acceptedRate(lane: Lane, now: number): number {
    while (lane.accepted.length && (lane.accepted[0] as number) <= now - STEP_MS) lane.accepted.shift();
    return (lane.accepted.length * 1000) / STEP_MS;
  }
}

function lowerCased(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k.toLowerCase()] = v;
  return out;
}

function numberOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text.split(',')[0]?.trim());
  return Number.isFinite(n) ? n : undefined;
}
