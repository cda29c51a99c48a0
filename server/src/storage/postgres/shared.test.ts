import { setTimeout as delay } from 'node:timers/promises';
import { BreakerRegistry, type RunEvent } from '@sluice/engine';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../node-runtime.js';
import { createPool, pgDb } from './db.js';
import { openPgShared } from './shared.js';
import { DATABASE_TESTS, useTestDatabase } from './test-database.js';

const database = useTestDatabase();

describe('openPgShared: the three over one listening connection', DATABASE_TESTS, () => {
  it('shares events, queued runs, breakers and limits between two processes, and closes cleanly', async () => {
    const dbs = [pgDb(createPool(database.url, 4)), pgDb(createPool(database.url, 4))];
    const [a, b] = await Promise.all(dbs.map((db) => openPgShared(db)));
    if (!a || !b) throw new Error('opened');
    try {
      const got: RunEvent[] = [];
      b.events.subscribe((e) => got.push(e));
      let queued = 0;
      b.events.onQueued(() => queued++);
      const registryA = new BreakerRegistry(systemClock);
      const registryB = new BreakerRegistry(systemClock);
      await a.breakers.attach(registryA);
      await b.breakers.attach(registryB);

      a.events.publish({ type: 'waiting', runId: '1', waiting: null });
      a.events.notifyQueued();
      const breaker = registryA.get('erp', { failureThreshold: 1, cooldownMs: 60_000 });
      breaker.report(false);
      const permit = await a.limits.acquire('erp', { maxConcurrent: 1 });
      const start = Date.now();
      while ((got.length === 0 || queued === 0 || registryB.get('erp').state !== 'open') && Date.now() - start < 1_000)
        await delay(10);
      expect(got).toHaveLength(1);
      expect(queued).toBe(1);
      expect(registryB.get('erp').state).toBe('open');
      expect(await b.limits.heldAll('erp')).toBe(1);
      permit.release();
      const next = await b.limits.acquire('erp', { maxConcurrent: 1 });
      next.release();
    } finally {
      await a.close();
      await b.close();
      for (const db of dbs) await db.$client.end();
    }
  });
});
