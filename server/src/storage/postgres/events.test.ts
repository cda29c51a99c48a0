import { PassThrough } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { RunEvent } from '@sluice/engine';
import type { RunCounts } from '@sluice/shared';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../logger.js';
import { createPool, type PgDb, pgDb } from './db.js';
import { PgEventBus, split } from './events.js';
import { PgListener } from './listener.js';
import { DATABASE_TESTS, useTestDatabase } from './test-database.js';

const database = useTestDatabase();
const opened: { db: PgDb; listener: PgListener; bus: PgEventBus }[] = [];

/** A process: its pool, listener and bus; its log lines kept in `lines`. */
async function process() {
  const db = pgDb(createPool(database.url, 4));
  const lines: string[] = [];
  const out = new PassThrough();
  out.on('data', (chunk: Buffer) => lines.push(...chunk.toString().trim().split('\n')));
  const logger = createLogger({ destination: out });
  const listener = PgListener.of(db, logger);
  const bus = new PgEventBus(db, { listener, logger });
  await bus.start();
  opened.push({ db, listener, bus });
  return { db, listener, bus, lines };
}

afterAll(async () => {
  for (const p of opened) {
    await p.bus.close();
    await p.listener.close();
    await p.db.$client.end();
  }
});

/** What a subscriber was given, and a way to wait for a count of it. */
function collect(bus: PgEventBus) {
  const got: RunEvent[] = [];
  bus.subscribe((e) => got.push(e));
  return {
    got,
    async until(count: number, ms = 1_000): Promise<number> {
      const start = Date.now();
      while (got.length < count) {
        if (Date.now() - start > ms) throw new Error(`${got.length} of ${count} events within ${ms} ms`);
        await delay(5);
      }
      return Date.now() - start;
    },
  };
}

const counts: RunCounts = { read: 3, succeeded: 2, filtered: 0, failed: 1, cancelled: 0 };

function status(runId: string): RunEvent {
  return { type: 'status', runId, status: 'running', counts };
}

describe('PgEventBus: run events across processes', DATABASE_TESTS, () => {
  it("gives another process's subscribers an event within a second, and its own ones once, directly", async () => {
    const a = await process();
    const b = await process();
    const inA = collect(a.bus);
    const inB = collect(b.bus);
    a.bus.publish(status('1'));
    // the publisher's own subscribers have it before publish returns
    expect(inA.got).toEqual([status('1')]);
    expect(await inB.until(1)).toBeLessThan(1_000);
    expect(inB.got).toEqual([status('1')]);
    await delay(200);
    expect(inA.got).toHaveLength(1);
  });

  it('keeps the order of events published in a burst', async () => {
    const a = await process();
    const b = await process();
    const inB = collect(b.bus);
    for (let i = 0; i < 500; i++) a.bus.publish(status(String(i)));
    await inB.until(500, 5_000);
    expect(inB.got.map((e) => e.runId)).toEqual(Array.from({ length: 500 }, (_, i) => String(i)));
  });

  it('splits an event past 8,000 bytes into parts, which arrive as the same event', async () => {
    const a = await process();
    const b = await process();
    const inB = collect(b.bus);
    const nodeCounts: Record<string, unknown> = {};
    // many nodes, names with characters of several bytes (and pairs of surrogates) in UTF-8
    for (let i = 0; i < 400; i++) nodeCounts[`nœud-${i}-😀`] = { in: i, out: i, error: 0, filtered: 0 };
    const big = {
      type: 'batch',
      runId: '7',
      batch: { batchNo: 1, size: 400, read: 400, at: 1 },
      counts,
      nodeCounts,
    } as unknown as RunEvent;
    expect(Buffer.byteLength(JSON.stringify(big))).toBeGreaterThan(20_000);
    expect(split(JSON.stringify(big)).length).toBeGreaterThan(3);
    a.bus.publish(big);
    a.bus.publish(status('8'));
    await inB.until(2);
    expect(inB.got).toEqual([big, status('8')]);
  });

  it('wakes the workers of every process when a run is queued', async () => {
    const a = await process();
    const b = await process();
    let inA = 0;
    let inB = 0;
    a.bus.onQueued(() => inA++);
    b.bus.onQueued(() => inB++);
    a.bus.notifyQueued();
    expect(inA).toBe(1);
    const start = Date.now();
    while (inB === 0 && Date.now() - start < 1_000) await delay(5);
    expect(inB).toBe(1);
    await delay(200);
    expect(inA).toBe(1);
  });

  it('tells every process which run a control was asked for, ahead of events waiting to be sent', async () => {
    const a = await process();
    const b = await process();
    const inA: string[] = [];
    const inB: string[] = [];
    const eventsInB = collect(b.bus);
    let eventsBeforeControl = -1;
    a.bus.onControl((runId) => inA.push(runId));
    b.bus.onControl((runId) => {
      inB.push(runId);
      eventsBeforeControl = eventsInB.got.length;
    });
    for (let i = 0; i < 300; i++) a.bus.publish(status(String(i)));
    a.bus.notifyControl('42');
    expect(inA).toEqual(['42']);
    await eventsInB.until(300);
    expect(inB).toEqual(['42']);
    expect(eventsBeforeControl).toBeLessThan(300);
    await delay(200);
    expect([inA, inB]).toEqual([['42'], ['42']]);
  });

  it('listens again after its connection is dropped, says so in the log, and gets later events', async () => {
    const a = await process();
    const b = await process();
    const inB = collect(b.bus);
    const pid = b.listener.pid;
    expect(pid).toBeDefined();
    const back = new Promise<void>((resolve) => b.listener.onReconnect(resolve));
    await a.db.execute(sql`SELECT pg_terminate_backend(${pid}::int)`);
    await back;
    expect(b.listener.pid).not.toBe(pid);
    expect(b.lines.some((l) => l.includes('dropped'))).toBe(true);
    a.bus.publish(status('after'));
    await inB.until(1);
    expect(inB.got).toEqual([status('after')]);
  });
});
