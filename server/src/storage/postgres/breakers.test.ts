import { setTimeout as delay } from 'node:timers/promises';
import { BreakerRegistry } from '@sluice/engine';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../node-runtime.js';
import { SharedBreakers } from './breakers.js';
import { createPool, type PgDb, pgDb } from './db.js';
import { PgListener } from './listener.js';
import { DATABASE_TESTS, useTestDatabase } from './test-database.js';

const database = useTestDatabase();
const opened: { db: PgDb; listener: PgListener; shared: SharedBreakers }[] = [];

/** A process: its pool, listener, breaker registry and their sharing. */
async function process(options: { listen?: boolean } = {}) {
  const db = pgDb(createPool(database.url, 4));
  const listener = PgListener.of(db);
  const shared = new SharedBreakers(db, { listener: options.listen === false ? undefined : listener });
  const registry = new BreakerRegistry(systemClock);
  await shared.attach(registry);
  opened.push({ db, listener, shared });
  return { registry, shared, listener, db };
}

afterAll(async () => {
  for (const p of opened) {
    await p.shared.close();
    await p.listener.close();
    await p.db.$client.end();
  }
});

const SETTINGS = { failureThreshold: 2, cooldownMs: 30_000 };

/** Waits until `check` holds, up to `ms`; returns the time it took. */
async function within(ms: number, check: () => boolean): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await delay(10);
  }
  return Date.now() - start;
}

/** Fails `connection`'s breaker in `registry` until it opens. */
function fail(registry: BreakerRegistry, connection: string): void {
  const breaker = registry.get(connection, SETTINGS);
  for (let i = 0; i < SETTINGS.failureThreshold; i++) breaker.report(false);
}

describe('SharedBreakers: breaker states across processes', DATABASE_TESTS, () => {
  it('opens a breaker in the other process within a second, without echo', async () => {
    const a = await process();
    const b = await process();
    const changesB: string[] = [];
    b.registry.onChange((c) => changesB.push(c.state));
    b.registry.get('erp', SETTINGS);

    fail(a.registry, 'erp');
    expect(a.registry.get('erp').state).toBe('open');
    const took = await within(1_000, () => b.registry.get('erp').state === 'open');
    expect(took).toBeLessThan(1_000);
    expect(b.registry.get('erp').snapshot().openUntil).toBe(a.registry.get('erp').snapshot().openUntil);

    // B applied it without reporting it as its own, so it published nothing back
    await delay(600);
    expect(changesB).toEqual([]);
    const rows = await database.db.execute<{ version: string; updated_by: string }>(
      sql`SELECT version, updated_by FROM breaker_states WHERE connection = 'erp'`,
    );
    expect(rows.rows).toEqual([{ version: '1', updated_by: a.shared.owner }]);
    expect(a.registry.get('erp').state).toBe('open');
  });

  it('gives a breaker opened elsewhere to a process that has not used the connection yet', async () => {
    const a = await process();
    const b = await process();
    fail(a.registry, 'crm');
    await delay(700);
    expect(b.registry.get('crm', SETTINGS).state).toBe('open');
  });

  it('closes a breaker in the other process once the one that opened it sees a probe succeed', async () => {
    let skew = 0;
    const now = () => Date.now() + skew;
    const db = pgDb(createPool(database.url, 4));
    const listener = PgListener.of(db);
    const shared = new SharedBreakers(db, { listener });
    opened.push({ db, listener, shared });
    const a = new BreakerRegistry({ ...systemClock, now });
    await shared.attach(a);
    const b = await process();

    const breaker = a.get('billing', { failureThreshold: 1, cooldownMs: 100 });
    breaker.report(false);
    await within(1_000, () => b.registry.get('billing').state === 'open');
    // the cooldown passed on A's clock: A probes, the probe succeeds, the breaker closes
    skew = 200;
    const probe = await breaker.acquire(new AbortController().signal, () => {});
    expect(probe).toBe(true);
    breaker.report(true);
    expect(breaker.state).toBe('closed');
    await within(1_000, () => b.registry.get('billing').state === 'closed');
  });

  it('catches up by polling when a notification is missed', async () => {
    const a = await process();
    const b = await process({ listen: false });
    fail(a.registry, 'ledger');
    const took = await within(1_000, () => b.registry.get('ledger', SETTINGS).state === 'open');
    expect(took).toBeLessThan(1_000);
  });
});
