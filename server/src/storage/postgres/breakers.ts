import { randomBytes } from 'node:crypto';
import type { BreakerChange, BreakerRegistry, LearnedBreakerState } from '@sluice/engine';
import { sql } from 'drizzle-orm';
import type { Logger } from '../../logger.js';
import type { BreakerSync } from '../port.js';
import type { PgDb } from './db.js';
import type { PgListener } from './listener.js';

/** The channel a published breaker state is announced on. */
export const BREAKERS_CHANNEL = 'sluice_breakers';

/** How often the states are read again, for a notification lost (a listening connection down meanwhile). */
export const BREAKER_POLL_MS = 500;

const NOW = sql.raw('(extract(epoch from clock_timestamp()) * 1000)::bigint');

/** A breaker state as stored and as notified. */
interface Published {
  c: string;
  s: 'open' | 'closed';
  u: number | null;
  v: number;
  by: string;
}

type RawState = {
  connection: string;
  state: string;
  open_until: string | number | null;
  version: string | number;
  updated_by: string;
};

/**
 * Breaker states shared by the processes on one database, so a system one worker found down is left
 * alone by all of them until its cooldown ends. A breaker of this process that opens or closes (its
 * own requests decided it) is written to `breaker_states` and notified; the states other processes
 * publish are applied to this process's registry as they are notified, and by a poll every 500 ms
 * that catches up on notifications lost. A state is applied once (each change raises the row's
 * version) and never to the process that published it.
 *
 * Half-open is not published: which process sends the probe after a cooldown is each one's own
 * affair, and the probe's answer (closed, or open again) is published as usual. `openUntil` is this
 * process's clock's time; processes on one database are expected to keep their clocks in step (NTP).
 */
export class SharedBreakers implements BreakerSync {
  readonly owner: string;
  private readonly registries = new Set<BreakerRegistry>();
  /** The version of each connection's state last seen (applied, published here, or skipped as this process's). */
  private readonly seen = new Map<string, number>();
  /** Publications in the order this process's breakers changed. */
  private publishing: Promise<void> = Promise.resolve();
  private poller: NodeJS.Timeout | undefined;
  private unlisten: (() => void) | undefined;
  private unreconnect: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly db: PgDb,
    private readonly options: { listener?: PgListener; owner?: string; logger?: Logger } = {},
  ) {
    this.owner = options.owner ?? randomBytes(6).toString('hex');
  }

  /**
   * Shares the breakers of `registry`: publishes its changes, applies the others'. Resolves once the
   * states already published are applied and notifications are listened for. Returns the way to detach.
   */
  async attach(registry: BreakerRegistry): Promise<() => void> {
    this.registries.add(registry);
    const off = registry.onChange((change) => this.publish(change));
    const { listener } = this.options;
    if (listener && !this.unlisten) {
      this.unlisten = await listener.listen(BREAKERS_CHANNEL, (payload) => this.notified(payload));
      this.unreconnect = listener.onReconnect(() => void this.poll());
    }
    if (!this.poller) {
      this.poller = setInterval(() => void this.poll(), BREAKER_POLL_MS);
      this.poller.unref();
    }
    await this.poll();
    return () => {
      off();
      this.registries.delete(registry);
    };
  }

  /** Stops sharing; resolves once the changes already seen here are published. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.poller);
    this.unlisten?.();
    this.unreconnect?.();
    this.registries.clear();
    await this.publishing;
  }

  /** Queues a change of this process's breaker for publication (the registry's listener must return at once). */
  private publish(change: BreakerChange): void {
    if (change.state === 'half-open') return;
    const state = change.state;
    const openUntil = state === 'open' ? change.openUntil : null;
    this.publishing = this.publishing.then(async () => {
      try {
        const r = await this.db.execute<{ version: string | number }>(sql`
          WITH up AS (
            INSERT INTO breaker_states (connection, state, open_until, version, updated_at, updated_by)
            VALUES (${change.connection}, ${state}, ${openUntil}, 1, ${NOW}, ${this.owner})
            ON CONFLICT (connection) DO UPDATE SET state = EXCLUDED.state, open_until = EXCLUDED.open_until,
              version = breaker_states.version + 1, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
            RETURNING connection, state, open_until, version, updated_by
          )
          SELECT version, pg_notify(${BREAKERS_CHANNEL},
            json_build_object('c', connection, 's', state, 'u', open_until, 'v', version, 'by', updated_by)::text)
          FROM up`);
        const version = Number(r.rows[0]?.version);
        if (version > (this.seen.get(change.connection) ?? 0)) this.seen.set(change.connection, version);
      } catch (err) {
        this.options.logger?.warn(
          { err, connection: change.connection, state },
          'publishing a breaker state failed; other processes find the system down for themselves',
        );
      }
    });
  }

  private notified(payload: string): void {
    let published: Published;
    try {
      published = JSON.parse(payload) as Published;
    } catch {
      return;
    }
    this.take(published);
  }

  /** Reads every connection's published state and applies those not seen yet. */
  private async poll(): Promise<void> {
    if (this.closed) return;
    try {
      const r = await this.db.execute<RawState>(
        sql`SELECT connection, state, open_until, version, updated_by FROM breaker_states`,
      );
      for (const row of r.rows) {
        this.take({
          c: row.connection,
          s: row.state === 'open' ? 'open' : 'closed',
          u: row.open_until === null ? null : Number(row.open_until),
          v: Number(row.version),
          by: row.updated_by,
        });
      }
    } catch (err) {
      this.options.logger?.warn({ err }, 'reading the shared breaker states failed; trying again');
    }
  }

  /** Applies a published state if it is newer than the one last seen and another process's. */
  private take(p: Published): void {
    if (this.closed || p.v <= (this.seen.get(p.c) ?? 0)) return;
    this.seen.set(p.c, p.v);
    if (p.by === this.owner) return;
    const learned: LearnedBreakerState =
      p.s === 'open' && p.u !== null ? { state: 'open', openUntil: p.u } : { state: 'closed' };
    for (const registry of this.registries) registry.apply(p.c, learned);
  }
}
