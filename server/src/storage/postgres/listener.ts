import pg from 'pg';
import type { Logger } from '../../logger.js';
import type { PgDb } from './db.js';

/** How often the listening connection is checked with a trivial query, so a silently dead one is noticed. */
const HEARTBEAT_MS = 10_000;
/** The first wait before connecting again after a drop, doubled up to the longest. */
const RETRY_FIRST_MS = 100;
const RETRY_LONGEST_MS = 5_000;

type Handler = (payload: string) => void;

/**
 * The process's one connection for LISTEN: notifications are delivered only to the session that
 * listens, so it cannot be a pooled connection. Every shared piece (limits, breakers, events)
 * registers its channels here. When the connection drops (a server restart, a terminated backend, a
 * network cut) it logs a line, connects again with a growing wait, listens on every channel again
 * and tells `onReconnect` listeners, who catch up on what they may have missed by reading the
 * database (nothing notified while it was down is delivered later).
 */
export class PgListener {
  private client: pg.Client | undefined;
  private readonly channels = new Map<string, Set<Handler>>();
  private readonly reconnected = new Set<() => void>();
  private connecting: Promise<void> | undefined;
  private retryMs = RETRY_FIRST_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  private backendPid: number | undefined;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly logger?: Logger,
  ) {}

  /** A listener on the database of `db`'s pool (same server, database and credentials). */
  static of(db: PgDb, logger?: Logger): PgListener {
    const options = db.$client.options;
    return new PgListener({ ...options, application_name: 'sluice-listen', keepAlive: true }, logger);
  }

  /** The listening session's backend process id, while connected (for tests and diagnostics). */
  get pid(): number | undefined {
    return this.backendPid;
  }

  /**
   * Calls `handler` with each notification's payload on `channel`. Resolves once listening, or once
   * a first attempt to connect failed: then it logs, keeps trying in the background, and listens on
   * the channel (telling `onReconnect` listeners) once connected. Returns the way to stop.
   */
  async listen(channel: string, handler: Handler): Promise<() => void> {
    let handlers = this.channels.get(channel);
    const fresh = !handlers;
    if (!handlers) {
      handlers = new Set();
      this.channels.set(channel, handlers);
    }
    handlers.add(handler);
    const stop = () => {
      handlers.delete(handler);
    };
    try {
      await this.ready();
    } catch (err) {
      if (this.closed) return stop;
      this.logger?.warn({ err }, 'connecting to listen for notifications failed; trying again');
      this.retry();
      return stop;
    }
    if (fresh && this.client) await this.client.query(`LISTEN ${quoteIdent(channel)}`).catch(() => {});
    return stop;
  }

  /** Calls `listener` each time the connection is made again after a drop (not on the first connect). */
  onReconnect(listener: () => void): () => void {
    this.reconnected.add(listener);
    return () => {
      this.reconnected.delete(listener);
    };
  }

  /** Resolves once connected and listening (connecting if it is not yet). */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the listener is closed'));
    if (this.client) return Promise.resolve();
    return this.attempt(false);
  }

  /** Connects, unless a connection is being made already (then waits for that one). */
  private attempt(again: boolean): Promise<void> {
    this.connecting ??= this.connect(again).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeat);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connect(again: boolean): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('error', () => this.dropped(client, 'error'));
    client.on('end', () => this.dropped(client, 'end'));
    client.on('notification', (n) => {
      for (const handler of [...(this.channels.get(n.channel) ?? [])]) {
        try {
          handler(n.payload ?? '');
        } catch (err) {
          this.logger?.error({ err, channel: n.channel }, 'a notification handler failed');
        }
      }
    });
    await client.connect();
    try {
      const pid = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      for (const channel of this.channels.keys()) await client.query(`LISTEN ${quoteIdent(channel)}`);
      this.backendPid = pid.rows[0]?.pid;
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.retryMs = RETRY_FIRST_MS;
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      client.query('SELECT 1').catch(() => this.dropped(client, 'heartbeat'));
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
    if (again) {
      this.logger?.info('listening for notifications again');
      for (const listener of [...this.reconnected]) {
        try {
          listener();
        } catch (err) {
          this.logger?.error({ err }, 'a reconnect handler failed');
        }
      }
    }
  }

  /** The connection went away: forget it and connect again (once per drop, however many events say so). */
  private dropped(client: pg.Client, why: string): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.backendPid = undefined;
    clearInterval(this.heartbeat);
    client.end().catch(() => {});
    if (this.closed) return;
    this.logger?.warn({ why }, 'the connection listening for notifications dropped; connecting again');
    this.retry();
  }

  private retry(): void {
    if (this.retryTimer && !this.client) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed || this.client) return;
      this.attempt(true).catch((err) => {
        this.retryMs = Math.min(this.retryMs * 2, RETRY_LONGEST_MS);
        this.logger?.warn({ err, retryMs: this.retryMs }, 'connecting again for notifications failed');
        this.retry();
      });
    }, this.retryMs);
    this.retryTimer.unref();
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
