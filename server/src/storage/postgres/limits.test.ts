import { setTimeout as delay } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createPool, type PgDb, pgDb } from './db.js';
import { PgLimits } from './limits.js';
import { PgListener } from './listener.js';
import { DATABASE_TESTS, useTestDatabase } from './test-database.js';

/** Two processes: each its own pool, listener and limits, on the same database. */
const database = useTestDatabase();
const opened: { db: PgDb; listener: PgListener; limits: PgLimits }[] = [];

function process(placeTtlMs?: number) {
  const db = pgDb(createPool(database.url, 10));
  const listener = PgListener.of(db);
  const limits = new PgLimits(db, { listener, placeTtlMs, paceShare: 1 });
  const p = { db, listener, limits };
  opened.push(p);
  return p;
}

afterAll(async () => {
  for (const p of opened) {
    await p.limits.close();
    await p.listener.close();
    await p.db.$client.end().catch(() => {});
  }
});

describe('PgLimits: connection limits across processes', DATABASE_TESTS, () => {
  it('gives a permit at once, without a query, to a connection without limits', async () => {
    const limits = new PgLimits(undefined as unknown as PgDb);
    const permit = await limits.acquire('free', {});
    expect(permit.waitedMs).toBe(0);
    permit.release();
    permit.release();
  });

  it('keeps its rows in unlogged tables (a permit does not wait for the log to reach the disk)', async () => {
    const r = await database.db.execute<{ relname: string; relpersistence: string }>(
      sql`SELECT relname, relpersistence FROM pg_class WHERE relname IN ('connection_pacing', 'connection_places') ORDER BY relname`,
    );
    expect(r.rows).toEqual([
      { relname: 'connection_pacing', relpersistence: 'u' },
      { relname: 'connection_places', relpersistence: 'u' },
    ]);
  });

  it('paces two processes together: 60 permits at 20 a second, never more than 21 started in a second', async () => {
    const a = process();
    const b = process();
    const granted: number[] = [];
    const one = async (limits: PgLimits) => {
      const permit = await limits.acquire('erp-pace', { maxPerSecond: 20 });
      granted.push(Date.now());
      permit.release();
    };
    await Promise.all(Array.from({ length: 60 }, (_, i) => one(i % 2 ? a.limits : b.limits)));
    granted.sort((x, y) => x - y);
    let most = 0;
    for (let i = 0; i < granted.length; i++) {
      const start = granted[i] as number;
      most = Math.max(most, granted.filter((t) => t >= start && t < start + 1000).length);
    }
    expect(most).toBeLessThanOrEqual(21);
    // spaced evenly: 60 permits take about three seconds
    expect((granted.at(-1) as number) - (granted[0] as number)).toBeGreaterThan(2_800);
  });

  it('sends no burst after the process stalls: permits whose slots passed meanwhile are spaced again', async () => {
    const { limits } = process();
    const granted: number[] = [];
    const one = async () => {
      (await limits.acquire('erp-stall', { maxPerSecond: 20 })).release();
      granted.push(Date.now());
    };
    const all = Promise.all(Array.from({ length: 16 }, one));
    // the process busy for 300 ms while the permits wait for their slots (800 ms of them)
    await delay(200);
    const busyUntil = Date.now() + 300;
    while (Date.now() < busyUntil) {
      // nothing: the event loop is held, as a long synchronous step or a collection would hold it
    }
    await all;
    granted.sort((x, y) => x - y);
    // each permit started within half an interval of its slot: never two closer than the other half
    const gaps = granted.slice(1).map((t, i) => t - (granted[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(20);
  });

  it('holds maxConcurrent over two processes: 6 holders, never more than 2 in flight', async () => {
    const a = process();
    const b = process();
    let inFlight = 0;
    let most = 0;
    const waits: (number | null)[] = [];
    const one = async (limits: PgLimits) => {
      const permit = await limits.acquire('erp-places', { maxConcurrent: 2 }, undefined, (until) => waits.push(until));
      inFlight++;
      most = Math.max(most, inFlight);
      await delay(150);
      inFlight--;
      permit.release();
    };
    await Promise.all(Array.from({ length: 6 }, (_, i) => one(i % 2 ? a.limits : b.limits)));
    expect(most).toBe(2);
    expect(waits.length).toBeGreaterThan(0);
    expect(waits.every((w) => w === null)).toBe(true);
    await delay(100);
    expect(await a.limits.heldAll('erp-places')).toBe(0);
  });

  it('frees the places of a process that dies without releasing them, within the ttl', async () => {
    const dying = process(600);
    const a = process(600);
    await dying.limits.acquire('erp-dies', { maxConcurrent: 1 });
    // killed: its pool gone, nothing released, nothing renewed
    await dying.db.$client.end();
    await dying.listener.close();
    const started = Date.now();
    const permit = await a.limits.acquire('erp-dies', { maxConcurrent: 1 });
    const waited = Date.now() - started;
    expect(waited).toBeLessThan(600 + 500);
    permit.release();
  });

  it('keeps a place renewed while it is held, past its ttl', async () => {
    const a = process(300);
    const b = process(300);
    const held = await a.limits.acquire('erp-renewed', { maxConcurrent: 1 });
    const control = new AbortController();
    const other = b.limits.acquire('erp-renewed', { maxConcurrent: 1 }, control.signal);
    other.catch(() => {});
    await delay(900);
    control.abort();
    await expect(other).rejects.toThrow();
    held.release();
  });

  it('gives up a wait for a place when aborted, holding nothing', async () => {
    const a = process();
    const b = process();
    const held = await a.limits.acquire('erp-abort', { maxConcurrent: 1 });
    const control = new AbortController();
    const waiting = b.limits.acquire('erp-abort', { maxConcurrent: 1 }, control.signal);
    setTimeout(() => control.abort(new Error('stopped')), 100);
    await expect(waiting).rejects.toThrow('stopped');
    expect(await a.limits.heldAll('erp-abort')).toBe(1);
    held.release();
    // the freed place is taken at once by the next caller, the aborted one having left no place behind
    const next = await b.limits.acquire('erp-abort', { maxConcurrent: 1 });
    expect(await a.limits.heldAll('erp-abort')).toBe(1);
    next.release();
  });

  it('gives up a wait for the pace when aborted, and gives its slot back', async () => {
    const a = process();
    const b = process();
    (await a.limits.acquire('erp-pace-abort', { maxPerSecond: 1 })).release();
    const control = new AbortController();
    let until: number | null = null;
    const waiting = b.limits.acquire('erp-pace-abort', { maxPerSecond: 1 }, control.signal, (u) => {
      until = u;
    });
    await delay(50);
    expect(until).toBeGreaterThan(Date.now());
    control.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    // the slot given back: the next caller gets it, about a second after the first permit
    const started = Date.now();
    (await a.limits.acquire('erp-pace-abort', { maxPerSecond: 1 })).release();
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('refuses a permit it cannot ask the database for, rather than wait blind', async () => {
    const gone = process();
    await gone.db.$client.end();
    await expect(gone.limits.acquire('erp-gone', { maxConcurrent: 1 })).rejects.toThrow();
    await expect(gone.limits.acquire('erp-gone', { maxPerSecond: 5 })).rejects.toThrow();
  });
});
