import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { ConnectionLimits, LimitSettings, Permit } from '@sluice/engine';
import { sql } from 'drizzle-orm';
import type { Logger } from '../../logger.js';
import { lateAllowedMs, MAX_MISSED_SLOTS, paceIntervalMs } from '../pacing.js';
import type { PgDb } from './db.js';
import type { PgListener } from './listener.js';

/** The channel a freed place is announced on (the payload: the connection's name). */
export const PLACES_CHANNEL = 'sluice_places';

/** How long a place lasts without renewal: a process killed outright frees its places after this. */
export const DEFAULT_PLACE_TTL_MS = 15_000;

/** How often a waiter looks again for a free place when no notification came (a lost one, an expiry). */
const PLACE_POLL_MS = 250;

/** How long a clock offset estimate is kept before a slower round trip may replace it. */
const OFFSET_FRESH_MS = 10_000;

/** The first key of the advisory locks that take turns on a connection's places ("slup"). */
const PLACES_LOCK = 0x736c7570;

const NOW = sql.raw('(extract(epoch from clock_timestamp()) * 1000)');

export interface PgLimitsOptions {
  /** The process's listening connection: a place freed anywhere wakes the waiters here at once. */
  listener?: PgListener;
  /** How long a place lasts unrenewed (it is renewed every third of it while held). */
  placeTtlMs?: number;
  /** This process's name in the places it holds; random by default. */
  owner?: string;
  logger?: Logger;
  /** The share of `maxPerSecond` paced at (`PACE_SHARE`; tests of the spacing itself give 1). */
  paceShare?: number;
}

/** A caller waiting for a place here, in turn. */
interface Waiter {
  max: number;
  holder: string;
  signal?: AbortSignal;
  onWait?: (until: number | null) => void;
  told: boolean;
  admit(): void;
  fail(err: unknown): void;
}

/** One connection's waiters in this process, and what wakes them. */
interface Lane {
  queue: Waiter[];
  pumping: boolean;
  wake?: () => void;
}

/**
 * Connection limits shared by every process on the database, with the semantics of `LocalLimits`
 * (a place first, then a slot of the pace; FIFO among the callers of one process; across processes
 * whoever asks first once a place is free):
 *
 * - `maxPerSecond`: an even pacer on the database's clock. One statement per permit moves the
 *   connection's next free slot on by 1000/maxPerSecond ms and returns the slot taken; the caller
 *   sleeps until it. The database's clock decides, so processes with skewed clocks share one pace.
 * - `maxConcurrent`: a place is a row with an expiry, taken only while fewer than max unexpired rows
 *   exist (the check and the insert under a per-connection advisory lock, so two processes never
 *   both take the last place). The process renews its places every third of the ttl; a process that
 *   dies frees them when they expire. A waiter tries again when a place is freed (a notification,
 *   or at once for a place freed here) and on a short poll.
 *
 * A connection without limits costs nothing: its permit is given at once, without a query.
 */
export class PgLimits implements ConnectionLimits {
  readonly owner: string;
  private readonly ttlMs: number;
  private readonly lanes = new Map<string, Lane>();
  /** Places this process holds (holder → connection), renewed together. */
  private readonly held = new Map<string, string>();
  private renewer: NodeJS.Timeout | undefined;
  private sequence = 0;
  private unlisten: Promise<() => void> | undefined;
  private offset: { offset: number; rtt: number; at: number } | undefined;
  private calibrating: Promise<void> | undefined;

  constructor(
    private readonly db: PgDb,
    private readonly options: PgLimitsOptions = {},
  ) {
    this.owner = options.owner ?? randomBytes(6).toString('hex');
    this.ttlMs = options.placeTtlMs ?? DEFAULT_PLACE_TTL_MS;
  }

  async acquire(
    connection: string,
    limits: LimitSettings,
    signal?: AbortSignal,
    onWait?: (until: number | null) => void,
  ): Promise<Permit> {
    if (signal?.aborted) throw abortReason(signal);
    const { maxConcurrent, maxPerSecond } = limits;
    if (maxConcurrent === undefined && !maxPerSecond) return FREE;
    const start = Date.now();
    const holder =
      maxConcurrent === undefined ? undefined : await this.place(connection, maxConcurrent, signal, onWait);
    try {
      if (maxPerSecond) await this.pace(connection, maxPerSecond, signal, onWait);
    } catch (err) {
      if (holder) this.free(connection, holder);
      throw err;
    }
    let released = false;
    return {
      waitedMs: Date.now() - start,
      release: () => {
        if (released) return;
        released = true;
        if (holder) this.free(connection, holder);
      },
    };
  }

  /** Places held on a connection by all processes, unexpired (for tests and status displays). */
  async heldAll(connection: string): Promise<number> {
    const r = await this.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM connection_places WHERE connection = ${connection} AND expires_at > ${NOW}`,
    );
    return r.rows[0]?.n ?? 0;
  }

  /** Stops renewing and gives back the places still held here. */
  async close(): Promise<void> {
    clearInterval(this.renewer);
    this.renewer = undefined;
    (await this.unlisten?.catch(() => undefined))?.();
    const holders = [...this.held.keys()];
    this.held.clear();
    if (holders.length > 0) {
      await this.db
        .execute(sql`DELETE FROM connection_places WHERE holder = ANY(${sql.param(holders)}::text[])`)
        .catch(() => {});
    }
  }

  // ---------------------------------------------------------------- pace

  /**
   * Waits for a slot of the connection's pace. A caller that comes to its slot late (its process
   * busy, its timer fired late) lets the slot go and takes the next free one, at most
   * `MAX_MISSED_SLOTS` times: slots missed in a stall are not spent together after it, so a stall
   * sends no burst.
   */
  private async pace(
    connection: string,
    perSecond: number,
    signal: AbortSignal | undefined,
    onWait: ((until: number | null) => void) | undefined,
  ): Promise<void> {
    const interval = paceIntervalMs(perSecond, this.options.paceShare);
    await this.calibrated();
    for (let missed = 0; ; missed++) {
      const due = await this.slot(connection, interval, signal, onWait);
      if (Date.now() - due <= lateAllowedMs(interval) || missed >= MAX_MISSED_SLOTS) return;
    }
  }

  /**
   * Takes the connection's next slot on the database's clock and sleeps until it. Returns when, on
   * this process's clock, the permit was due: the slot, or, when the slot had come by the time the
   * answer arrived, the slot plus the answer's way back (half the quickest recent round trip), so
   * that a distant database does not make every such permit late.
   */
  private async slot(
    connection: string,
    interval: number,
    signal: AbortSignal | undefined,
    onWait: ((until: number | null) => void) | undefined,
  ): Promise<number> {
    const sent = Date.now();
    const r = await this.db.execute<{ slot: number; next: number; now: number }>(sql`
      WITH t AS (SELECT ${NOW}::float8 AS now)
      INSERT INTO connection_pacing (connection, next_at)
      SELECT ${connection}, t.now + ${interval}::float8 FROM t
      ON CONFLICT (connection) DO UPDATE
        SET next_at = GREATEST(connection_pacing.next_at, (SELECT now FROM t)) + ${interval}::float8
      RETURNING next_at - ${interval}::float8 AS slot, next_at AS next, (SELECT now FROM t) AS now`);
    const row = r.rows[0];
    if (!row) throw new Error(`connection ${connection}: no slot returned`);
    // the slot on this process's clock: measured from the moment the statement ran, not from when its
    // answer arrived, so permits answered late do not bunch up behind the ones answered early
    const received = Date.now();
    const offset = this.clockOffset(Number(row.now), sent, received);
    const at = Number(row.slot) - offset;
    const wait = at - received;
    if (wait <= 0) return at + (this.offset?.rtt ?? 0) / 2;
    onWait?.(at);
    try {
      await delay(wait, undefined, signal ? { signal } : undefined);
    } catch (err) {
      // give the slot back if nobody took one after it (the next slot still the one this took)
      await this.db
        .execute(sql`UPDATE connection_pacing SET next_at = next_at - ${interval}::float8
          WHERE connection = ${connection} AND next_at = ${Number(row.next)}::float8`)
        .catch(() => {});
      throw signal?.aborted ? abortReason(signal) : err;
    }
    return at;
  }

  /**
   * The database's clock minus this process's, estimated from a statement's round trip (the
   * database's moment taken to lie halfway): the quickest recent round trip gives the best estimate.
   * The first estimate comes from a few round trips of their own on a connection already made, so
   * the first permits are not timed by one that included making a connection.
   */
  private clockOffset(dbNow: number, sent: number, received: number): number {
    this.sample(dbNow, sent, received);
    return (this.offset as { offset: number }).offset;
  }

  private sample(dbNow: number, sent: number, received: number): void {
    const rtt = received - sent;
    const best = this.offset;
    if (!best || rtt <= best.rtt || received - best.at > OFFSET_FRESH_MS) {
      this.offset = { offset: dbNow - (sent + rtt / 2), rtt, at: received };
    }
  }

  private calibrated(): Promise<void> {
    this.calibrating ??= (async () => {
      for (let i = 0; i < 3; i++) {
        const sent = Date.now();
        const r = await this.db.execute<{ now: number }>(sql`SELECT ${NOW}::float8 AS now`);
        this.sample(Number(r.rows[0]?.now), sent, Date.now());
      }
    })();
    return this.calibrating;
  }

  // ---------------------------------------------------------------- places

  /** Takes one of `max` places, in turn with this process's other callers; resolves with its holder id. */
  private place(
    connection: string,
    max: number,
    signal: AbortSignal | undefined,
    onWait: ((until: number | null) => void) | undefined,
  ): Promise<string> {
    const lane = this.lane(connection);
    const holder = `${this.owner}:${++this.sequence}`;
    return new Promise<string>((resolve, reject) => {
      const leave = () => {
        const at = lane.queue.indexOf(waiter);
        if (at >= 0) lane.queue.splice(at, 1);
        lane.wake?.();
        reject(abortReason(signal as AbortSignal));
      };
      const waiter: Waiter = {
        max,
        holder,
        signal,
        onWait,
        told: false,
        admit: () => {
          signal?.removeEventListener('abort', leave);
          resolve(holder);
        },
        fail: (err) => {
          signal?.removeEventListener('abort', leave);
          reject(err);
        },
      };
      signal?.addEventListener('abort', leave, { once: true });
      lane.queue.push(waiter);
      void this.pump(connection, lane);
    });
  }

  private lane(connection: string): Lane {
    let lane = this.lanes.get(connection);
    if (!lane) {
      lane = { queue: [], pumping: false };
      this.lanes.set(connection, lane);
    }
    return lane;
  }

  /**
   * Gives places to this connection's waiters in turn, one try at a time: the first in line tries,
   * and on a full connection the lane sleeps until a place is freed (here or elsewhere) or the poll.
   */
  private async pump(connection: string, lane: Lane): Promise<void> {
    if (lane.pumping) return;
    lane.pumping = true;
    try {
      for (;;) {
        const first = lane.queue[0];
        if (!first) break;
        let taken: boolean;
        try {
          taken = await this.take(connection, first.holder, first.max);
        } catch (err) {
          // the database could not be asked: this caller's request fails rather than wait blind
          const at = lane.queue.indexOf(first);
          if (at >= 0) lane.queue.splice(at, 1);
          first.fail(err);
          continue;
        }
        if (taken) {
          if (lane.queue[0] === first) {
            lane.queue.shift();
            this.held.set(first.holder, connection);
            this.renewing();
            first.admit();
          } else {
            // it gave up while its place was being taken: give the place back
            await this.drop(connection, first.holder);
          }
          continue;
        }
        if (first.signal?.aborted) continue;
        if (!first.told) {
          first.told = true;
          first.onWait?.(null);
        }
        await this.sleep(lane);
      }
    } finally {
      lane.pumping = false;
      if (lane.queue.length === 0) this.lanes.delete(connection);
      else void this.pump(connection, lane);
    }
  }

  /** Sleeps until a place is freed on the connection (a notification, a release here) or the poll. */
  private async sleep(lane: Lane): Promise<void> {
    await this.listening();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, PLACE_POLL_MS);
      function done() {
        clearTimeout(timer);
        lane.wake = undefined;
        resolve();
      }
      lane.wake = done;
    });
  }

  /** Takes a place if fewer than `max` are held on the connection; expired ones are cleared meanwhile. */
  private async take(connection: string, holder: string, max: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${PLACES_LOCK}, hashtext(${connection}))`);
      const r = await tx.execute<{ holder: string }>(sql`
        WITH expired AS (
          DELETE FROM connection_places WHERE connection = ${connection} AND expires_at <= ${NOW}
        )
        INSERT INTO connection_places (holder, connection, owner, expires_at)
        SELECT ${holder}, ${connection}, ${this.owner}, ${NOW}::bigint + ${this.ttlMs}::bigint
        WHERE (SELECT count(*) FROM connection_places WHERE connection = ${connection} AND expires_at > ${NOW}) < ${max}
        RETURNING holder`);
      return r.rows.length > 0;
    });
  }

  /** Gives a place back (idempotent through the permit) and tells the waiters everywhere. */
  private free(connection: string, holder: string): void {
    this.held.delete(holder);
    if (this.held.size === 0) {
      clearInterval(this.renewer);
      this.renewer = undefined;
    }
    this.drop(connection, holder).then(
      () => this.lanes.get(connection)?.wake?.(),
      (err) => {
        // the row expires unrenewed within the ttl
        this.options.logger?.warn({ err, connection }, 'giving back a connection place failed; it expires instead');
      },
    );
  }

  private async drop(connection: string, holder: string): Promise<void> {
    await this.db.execute(sql`
      WITH gone AS (DELETE FROM connection_places WHERE holder = ${holder} RETURNING connection)
      SELECT pg_notify(${PLACES_CHANNEL}, ${connection}) FROM gone`);
  }

  /** Renews this process's places every third of the ttl while it holds any. */
  private renewing(): void {
    if (this.renewer) return;
    this.renewer = setInterval(() => {
      this.db
        .execute(
          sql`UPDATE connection_places SET expires_at = ${NOW}::bigint + ${this.ttlMs}::bigint WHERE owner = ${this.owner}`,
        )
        .catch((err) => this.options.logger?.warn({ err }, 'renewing connection places failed; trying again'));
    }, this.ttlMs / 3);
    this.renewer.unref();
  }

  /** Subscribes (once) to freed places, waking the lane of the connection named. */
  private async listening(): Promise<void> {
    const listener = this.options.listener;
    if (!listener) return;
    this.unlisten ??= listener.listen(PLACES_CHANNEL, (connection) => this.lanes.get(connection)?.wake?.());
    await this.unlisten.catch(() => {
      // without notifications the poll still finds freed places
    });
  }
}

/** The permit of a connection without limits. */
const FREE: Permit = { waitedMs: 0, release() {} };

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}
