import { randomBytes } from 'node:crypto';
import type { RunEvent } from '@sluice/engine';
import { sql } from 'drizzle-orm';
import type { Logger } from '../../logger.js';
import type { EventBus } from '../port.js';
import type { PgDb } from './db.js';
import type { PgListener } from './listener.js';

/** The channel runs' events go on. */
export const EVENTS_CHANNEL = 'sluice_events';
/** The channel that says a run was queued. */
export const QUEUED_CHANNEL = 'sluice_runs_queued';
/** The channel that says a control (pause, resume, cancel) was asked for a run: its payload is the run id. */
export const CONTROL_CHANNEL = 'sluice_run_control';

/**
 * The most UTF-16 code units of an event's JSON in one notification: at most 3 bytes of UTF-8 each,
 * so a part and its header stay under PostgreSQL's 8,000-byte payload limit.
 */
export const PART_UNITS = 2_500;

/** Notifications sent by one statement, at most (bar the rest of a split event). */
const PER_STATEMENT = 256;

/** A notification waiting to be sent; `last` for the last part of an event. */
interface Pending {
  channel: string;
  payload: string;
  last: boolean;
}

/** Events waiting to be sent past which new ones are dropped (the database is not keeping up). */
const MAX_PENDING = 10_000;

/**
 * Live events across the processes on one database, by LISTEN/NOTIFY. A process's own subscribers
 * get its events at once, in the process; the others get them through the database: each event is
 * sent as its JSON, behind a header (`<process> <message> <part>/<parts> `) the receiver uses to
 * skip its own events and to put a large event back together. An event whose JSON passes a
 * notification's 8,000 bytes (a batch's counts over many nodes) is split into parts sent in one
 * transaction, which PostgreSQL delivers together and in order; so it arrives whole, as the same
 * event, and nobody has to read the database for it.
 *
 * Events are sent in the order published, several per statement when they come faster than the
 * database answers. A subscriber's process whose listening connection is down misses what is sent
 * meanwhile (the listener connects again, and a display reads the run for what it missed).
 */
export class PgEventBus implements EventBus {
  readonly owner: string;
  private readonly subscribers = new Set<(event: RunEvent) => void>();
  private readonly queuedListeners = new Set<() => void>();
  private readonly controlListeners = new Set<(runId: string) => void>();
  private sequence = 0;
  /** Payloads to send, in order, and whether a statement is out sending the previous ones. */
  private pending: Pending[] = [];
  private sending: Promise<void> | undefined;
  private dropped = 0;
  /** Parts of large events received so far, by sender and message. */
  private readonly partial = new Map<string, string[]>();
  private listening: Promise<void> | undefined;
  private readonly offs: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly db: PgDb,
    private readonly options: { listener?: PgListener; owner?: string; logger?: Logger } = {},
  ) {
    this.owner = options.owner ?? randomBytes(6).toString('hex');
  }

  /** Resolves once events and queued runs of other processes are listened for. */
  start(): Promise<void> {
    const listener = this.options.listener;
    if (!listener) return Promise.resolve();
    this.listening ??= (async () => {
      this.offs.push(await listener.listen(EVENTS_CHANNEL, (payload) => this.received(payload)));
      this.offs.push(await listener.listen(QUEUED_CHANNEL, (payload) => this.queuedElsewhere(payload)));
      this.offs.push(await listener.listen(CONTROL_CHANNEL, (payload) => this.controlElsewhere(payload)));
      // parts of an event cut off by the drop never complete
      this.offs.push(listener.onReconnect(() => this.partial.clear()));
    })();
    return this.listening;
  }

  publish(event: RunEvent): void {
    for (const subscriber of [...this.subscribers]) deliver(subscriber, event, this.options.logger);
    if (this.closed) return;
    const json = JSON.stringify(event);
    const id = (++this.sequence).toString(36);
    const parts = split(json);
    if (this.pending.length + parts.length > MAX_PENDING) {
      this.overflow();
      return;
    }
    parts.forEach((part, i) => {
      this.send(EVENTS_CHANNEL, `${this.owner} ${id} ${i + 1}/${parts.length} ${part}`, i === parts.length - 1);
    });
  }

  subscribe(listener: (event: RunEvent) => void): () => void {
    this.subscribers.add(listener);
    void this.start().catch((err) => this.options.logger?.warn({ err }, 'listening for run events failed'));
    return () => {
      this.subscribers.delete(listener);
    };
  }

  notifyQueued(): void {
    for (const listener of [...this.queuedListeners]) wake(listener, this.options.logger);
    if (this.closed) return;
    if (this.pending.length >= MAX_PENDING) {
      this.overflow();
      return;
    }
    this.send(QUEUED_CHANNEL, this.owner, true);
  }

  onQueued(listener: () => void): () => void {
    this.queuedListeners.add(listener);
    void this.start().catch((err) => this.options.logger?.warn({ err }, 'listening for queued runs failed'));
    return () => {
      this.queuedListeners.delete(listener);
    };
  }

  notifyControl(runId: string): void {
    for (const listener of [...this.controlListeners]) wake(() => listener(runId), this.options.logger);
    if (this.closed) return;
    // a control is never dropped for events piling up: it is sent ahead of them
    this.pending.unshift({ channel: CONTROL_CHANNEL, payload: `${this.owner} ${runId}`, last: true });
    this.sending ??= this.drain().finally(() => {
      this.sending = undefined;
    });
  }

  onControl(listener: (runId: string) => void): () => void {
    this.controlListeners.add(listener);
    void this.start().catch((err) => this.options.logger?.warn({ err }, 'listening for run controls failed'));
    return () => {
      this.controlListeners.delete(listener);
    };
  }

  /** Stops listening; resolves once what was published is sent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.listening?.catch(() => {});
    for (const off of this.offs.splice(0)) off();
    this.subscribers.clear();
    this.queuedListeners.clear();
    this.controlListeners.clear();
    while (this.sending) await this.sending;
  }

  // ---------------------------------------------------------------- sending

  private overflow(): void {
    if (this.dropped++ === 0) {
      this.options.logger?.warn('run events are published faster than the database takes them; dropping some');
    }
  }

  private send(channel: string, payload: string, last: boolean): void {
    this.pending.push({ channel, payload, last });
    this.sending ??= this.drain().finally(() => {
      this.sending = undefined;
    });
  }

  /**
   * Sends what is pending, up to a few hundred notifications a statement, each statement its own
   * transaction: a split event's parts are never cut over two, so they arrive together.
   */
  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      let n = Math.min(this.pending.length, PER_STATEMENT);
      while (n < this.pending.length && !this.pending[n - 1]?.last) n++;
      const batch = this.pending.splice(0, n);
      this.dropped = 0;
      try {
        await this.db.execute(sql`
          SELECT pg_notify(n.channel, n.payload)
          FROM unnest(${sql.param(batch.map((b) => b.channel))}::text[], ${sql.param(batch.map((b) => b.payload))}::text[])
            WITH ORDINALITY AS n(channel, payload, i)
          ORDER BY n.i`);
      } catch (err) {
        this.options.logger?.warn({ err, events: batch.length }, 'sending run events to other processes failed');
      }
    }
  }

  // ---------------------------------------------------------------- receiving

  private received(payload: string): void {
    const header = /^(\S+) (\S+) (\d+)\/(\d+) /.exec(payload);
    if (!header) return;
    const [whole, owner, id, at, of] = header as unknown as [string, string, string, string, string];
    if (owner === this.owner) return;
    const data = payload.slice(whole.length);
    const count = Number(of);
    let json: string;
    if (count === 1) {
      json = data;
    } else {
      const key = `${owner} ${id}`;
      const parts = this.partial.get(key) ?? [];
      parts[Number(at) - 1] = data;
      if (parts.filter((p) => p !== undefined).length < count) {
        this.partial.set(key, parts);
        return;
      }
      this.partial.delete(key);
      json = parts.join('');
    }
    let event: RunEvent;
    try {
      event = JSON.parse(json) as RunEvent;
    } catch {
      return;
    }
    for (const subscriber of [...this.subscribers]) deliver(subscriber, event, this.options.logger);
  }

  private controlElsewhere(payload: string): void {
    const [owner, runId] = payload.split(' ');
    if (owner === this.owner || !runId) return;
    for (const listener of [...this.controlListeners]) wake(() => listener(runId), this.options.logger);
  }

  private queuedElsewhere(owner: string): void {
    if (owner === this.owner) return;
    for (const listener of [...this.queuedListeners]) wake(listener, this.options.logger);
  }
}

/** An event's JSON cut into notification-sized parts, never between the two halves of a surrogate pair. */
export function split(json: string): string[] {
  const parts: string[] = [];
  let from = 0;
  while (from < json.length || parts.length === 0) {
    let to = Math.min(from + PART_UNITS, json.length);
    const last = json.charCodeAt(to - 1);
    if (to < json.length && last >= 0xd800 && last <= 0xdbff) to--;
    parts.push(json.slice(from, to));
    from = to;
  }
  return parts;
}

function deliver(subscriber: (event: RunEvent) => void, event: RunEvent, logger?: Logger): void {
  try {
    subscriber(event);
  } catch (err) {
    logger?.error({ err, runId: event.runId }, 'a run event subscriber failed');
  }
}

function wake(listener: () => void, logger?: Logger): void {
  try {
    listener();
  } catch (err) {
    logger?.error({ err }, 'a queued-run or run-control listener failed');
  }
}
