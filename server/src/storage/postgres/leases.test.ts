import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createPool, type PgDb, pgDb } from './db.js';
import { PgLeases } from './leases.js';
import { useTestDatabase } from './test-database.js';
import { seedRun } from './test-seed.js';

const t = useTestDatabase();

const epochOf = async (runId: string) =>
  Number((await t.db.$client.query('SELECT lease_epoch FROM runs WHERE id = $1', [Number(runId)])).rows[0].lease_epoch);

/** `n` processes' worth of databases: each its own pool, as separate processes would have. */
async function processes<T>(n: number, body: (dbs: PgDb[]) => Promise<T>): Promise<T> {
  const dbs = Array.from({ length: n }, () => pgDb(createPool(t.url, 2)));
  try {
    return await body(dbs);
  } finally {
    await Promise.all(dbs.map((db) => db.$client.end()));
  }
}

/** Runs of their own for one test: queued unless told otherwise. */
async function queued(n: number, status = 'queued', flowId: string | null = null): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(String(await seedRun(t.db, { flowId, status, flowName: 'leases' })));
  return ids;
}

/** Takes every run out of play for the next test (each test's runs are its own). */
async function finishAll(): Promise<void> {
  await t.db.$client.query(`UPDATE runs SET status = 'succeeded', lease_owner = NULL, lease_expires_at = NULL`);
}

describe('PostgreSQL leases', () => {
  it('lets one process claim a run; another takes it over once the lease expires, and the first finds it lost', async () => {
    const [runId] = (await queued(1)) as [string];
    const a = new PgLeases(t.db, 300);
    const b = new PgLeases(t.db, 300);
    expect(a.owner).toMatch(/^[^/]+\/\d+\/[0-9a-f]{8}$/);
    expect(a.owner).not.toBe(b.owner);
    expect(await a.claim(runId, ['queued'])).toBe(1);
    expect(await b.claim(runId, ['queued'])).toBeNull();
    expect(await b.candidates(10)).toEqual([]);
    // a status not asked for is not taken, whoever holds it
    expect(await a.claim(runId, ['running'])).toBeNull();
    await sleep(350);
    expect(await b.candidates(10)).toEqual([{ id: runId, status: 'queued', flowId: null }]);
    expect(await b.claim(runId, ['queued'])).toBe(2);
    expect(await epochOf(runId)).toBe(2);
    expect(await a.renew([runId])).toEqual([runId]);
    expect(await a.claim(runId, ['queued'])).toBeNull();
    expect(await b.renew([runId])).toEqual([]);
    await finishAll();
  });

  it('keeps a renewed lease alive past its first expiry, and frees a released one at once', async () => {
    const [runId, other] = (await queued(2)) as [string, string];
    const a = new PgLeases(t.db, 300);
    const b = new PgLeases(t.db, 300);
    expect(await a.claim(runId, ['queued'])).toBe(1);
    for (let i = 0; i < 3; i++) {
      await sleep(150);
      expect(await a.renew([runId, other])).toEqual([other]);
    }
    expect(await b.claim(runId, ['queued'])).toBeNull();
    // the holder claiming again is a new claim: a new epoch
    expect(await a.claim(runId, ['queued'])).toBe(2);
    await a.release(runId);
    // a release by another process does nothing
    await a.release(other);
    expect(await b.claim(runId, ['queued'])).toBe(3);
    expect(await a.renew([])).toEqual([]);
    // an id that cannot be a run's is held by nobody
    expect(await b.renew(['not-a-run', runId])).toEqual(['not-a-run']);
    await finishAll();
  });

  it('lists queued runs and the running or paused ones nobody live holds, oldest first, never its own', async () => {
    const ids = await queued(3);
    const [running, paused, held] = await queued(3, 'running');
    const a = new PgLeases(t.db, 60_000);
    const b = new PgLeases(t.db, 60_000);
    await t.db.$client.query(`UPDATE runs SET status = 'paused' WHERE id = $1`, [Number(paused)]);
    // an expired lease of a process gone
    await t.db.$client.query(
      `UPDATE runs SET lease_owner = 'gone/1/x', lease_expires_at = (extract(epoch from now()) * 1000)::bigint - 1 WHERE id = $1`,
      [Number(running)],
    );
    expect(await b.claim(held as string, ['running'])).toBe(1);
    expect(await a.claim(ids[0] as string, ['queued'])).toBe(1);
    expect((await a.candidates(10)).map((c) => c.id)).toEqual([ids[1], ids[2], running, paused]);
    expect(await a.candidates(2)).toEqual([
      { id: ids[1], status: 'queued', flowId: null },
      { id: ids[2], status: 'queued', flowId: null },
    ]);
    expect((await b.candidates(10)).map((c) => c.id)).toEqual([ids[0], ids[1], ids[2], running, paused].slice(1));
    await finishAll();
  });

  it('gives each of 50 queued runs to exactly one of 8 processes claiming at once', async () => {
    const ids = await queued(50);
    const claimed = await processes(8, async (dbs) => {
      const got = await Promise.all(
        dbs.map(async (db) => {
          const leases = new PgLeases(db);
          const mine: string[] = [];
          for (;;) {
            const candidates = await leases.candidates(5);
            if (candidates.length === 0) return mine;
            for (const c of candidates) if ((await leases.claim(c.id, ['queued'])) !== null) mine.push(c.id);
          }
        }),
      );
      return got.flat();
    });
    expect([...claimed].sort()).toEqual([...ids].sort());
    const epochs = await t.db.$client.query('SELECT DISTINCT lease_epoch FROM runs WHERE id = ANY($1::bigint[])', [
      ids.map(Number),
    ]);
    expect(epochs.rows.map((r) => Number(r.lease_epoch))).toEqual([1]);
    await finishAll();
  });
});
