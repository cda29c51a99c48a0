import { afterAll, describe, expect, it } from 'vitest';
import type { Storage } from './port.js';
import type { PostgresStorage } from './postgres/index.js';
import { sqliteClient } from './sqlite/index.js';
import { type StoreUnderTest, storesUnderTest } from './stores-under-test.js';

/** The newest migration row the database records, removed (as a database restored from before it would be). */
async function dropNewestMigration(storage: Storage): Promise<() => Promise<void>> {
  if (storage.kind === 'sqlite') {
    const c = sqliteClient(storage).$client;
    const row = c
      .prepare('SELECT hash, created_at FROM __drizzle_migrations ORDER BY created_at DESC LIMIT 1')
      .get() as {
      hash: string;
      created_at: number;
    };
    c.prepare('DELETE FROM __drizzle_migrations WHERE created_at = ?').run(row.created_at);
    return async () => {
      c.prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)').run(row.hash, row.created_at);
    };
  }
  const pool = (storage as PostgresStorage).db.$client;
  const { rows } = await pool.query<{ id: number; hash: string; created_at: string }>(
    'SELECT id, hash, created_at FROM drizzle.__drizzle_migrations ORDER BY created_at DESC LIMIT 1',
  );
  const row = rows[0] as { id: number; hash: string; created_at: string };
  await pool.query('DELETE FROM drizzle.__drizzle_migrations WHERE id = $1', [row.id]);
  return async () => {
    await pool.query('INSERT INTO drizzle.__drizzle_migrations (id, hash, created_at) VALUES ($1, $2, $3)', [
      row.id,
      row.hash,
      row.created_at,
    ]);
  };
}

describe.each(storesUnderTest())('storage readiness: $kind', (kind: StoreUnderTest) => {
  afterAll(() => kind.dispose());

  it('is ready on a database it opened: it answers, its migrations are applied, the writer is alive', async () => {
    const storage = await kind.open();
    try {
      const r = await storage.readiness();
      expect(r.database).toMatchObject({ ready: true, detail: expect.stringMatching(/^answered in \d+ ms$/) });
      expect(r.migrations).toEqual({ ready: true, detail: 'every migration of this build is applied' });
      expect(r.writer.ready).toBe(true);
      await storage.runStore.ready();
      expect((await storage.readiness()).writer.ready).toBe(true);
      expect(storage.runStore.writerStatus().lagRows).toBe(0);
    } finally {
      await storage.close();
    }
  });

  it('names the migrations when the database lacks this build’s newest, and is ready again once it has it', async () => {
    const storage = await kind.open();
    try {
      const restore = await dropNewestMigration(storage);
      const r = await storage.readiness();
      expect(r.database.ready).toBe(true);
      expect(r.migrations.ready).toBe(false);
      expect(r.migrations.detail).toMatch(/newest migration is of .*this build's of/);
      await restore();
      expect((await storage.readiness()).migrations.ready).toBe(true);
    } finally {
      await storage.close();
    }
  });

  it('names the database and the writer once the storage is closed', async () => {
    const storage = await kind.open();
    await storage.close();
    const r = await storage.readiness();
    expect(r.database.ready).toBe(false);
    expect(r.migrations.ready).toBe(false);
    expect(r.writer).toEqual({ ready: false, detail: 'the run store is closed' });
  });

  it('counts the runs queued, running and paused, of every status apart', async () => {
    const storage = await kind.open();
    try {
      expect(await storage.runs.unfinishedCounts()).toEqual({ queued: 0, running: 0, paused: 0 });
      const ids = [];
      for (let i = 0; i < 4; i++)
        ids.push(await storage.runs.create({ flowId: null, flowVersionId: null, flowName: 'q', trigger: 'api' }));
      const at = Date.now();
      await storage.runStore.setStatus(ids[0] as string, { status: 'running', at });
      await storage.runStore.setStatus(ids[1] as string, { status: 'paused', at });
      await storage.runStore.setStatus(ids[2] as string, {
        status: 'succeeded',
        at,
        counts: { read: 0, succeeded: 0, filtered: 0, failed: 0, cancelled: 0 },
        nodeCounts: {},
      });
      expect(await storage.runs.unfinishedCounts()).toEqual({ queued: 1, running: 1, paused: 1 });
      const v = await storage.runs.versionOf(ids[0] as string);
      expect(v).toMatchObject({ trigger: 'api', startedAt: at, flowVersionId: null, retryOf: null });
      expect((await storage.runs.versionOf(ids[3] as string)).startedAt).toBeNull();
    } finally {
      await storage.close();
    }
  });
});
