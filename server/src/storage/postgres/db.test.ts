import { createServer } from 'node:net';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { idleInTransactionFor, openPostgres, redactUrl, StorageStartError } from './db.js';
import { openPostgresStorage } from './index.js';
import * as schema from './schema.js';
import { createTestDatabase, DATABASE_TESTS, testServerUrl, withDatabase, withTestDatabase } from './test-database.js';

const PASSWORD = 'hunter2-secret';

/** The test server's URL as another user, with a password, to another database. */
function variant(change: { user?: string; database?: string; port?: number }): string {
  const url = new URL(testServerUrl());
  url.username = change.user ?? (url.username || 'postgres');
  url.password = PASSWORD;
  if (change.database) url.pathname = `/${change.database}`;
  if (change.port) {
    url.hostname = '127.0.0.1';
    url.port = String(change.port);
  }
  return url.toString();
}

/** A loopback port nothing listens on (one just let go). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function refusal(url: string): Promise<StorageStartError> {
  const err = await openPostgres(url).then(
    async (db) => {
      await db.$client.end();
      throw new Error(`opened ${url}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StorageStartError);
  const message = (err as Error).message;
  expect(message.startsWith('SLUICE_DATABASE_URL: ')).toBe(true);
  expect(message).not.toContain('\n');
  expect(message).not.toContain(PASSWORD);
  return err as StorageStartError;
}

describe('openPostgres refuses, in one line naming SLUICE_DATABASE_URL and never the password', {
  timeout: 30_000,
}, () => {
  it('a URL that is not PostgreSQL', async () => {
    const err = await refusal(`mysql://root:${PASSWORD}@127.0.0.1:3306/test`);
    expect(err.message).toMatch(/expected a postgres:\/\/ or postgresql:\/\/ URL, got a mysql:\/\/ URL/);
    expect((await refusal(`/var/lib/${PASSWORD}.sqlite`)).message).toMatch(/got something that is not a URL$/);
  });

  it('a server that does not answer', async () => {
    const port = await closedPort();
    const err = await refusal(variant({ port }));
    expect(err.message).toBe(`SLUICE_DATABASE_URL: cannot reach 127.0.0.1:${port}: connection refused`);
  });

  it('a database that does not exist', async () => {
    const err = await refusal(variant({ database: 'sluice_no_such_database' }));
    expect(err.message).toMatch(/database "sluice_no_such_database" does not exist/);
  });

  it('a user that does not exist (or a wrong password)', async () => {
    const err = await refusal(variant({ user: 'sluice_no_such_user' }));
    expect(err.message).toMatch(/sluice_no_such_user/);
    expect(err.message).toMatch(/PostgreSQL .* refused: /);
  });

  it('a database migrated by a newer build', async () => {
    const database = await createTestDatabase();
    try {
      const db = await openPostgres(database.url);
      const future = Date.UTC(2099, 0, 1);
      await db.$client.query('INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ($1, $2)', [
        'a-later-build',
        future,
      ]);
      await db.$client.end();
      const err = await refusal(database.url);
      expect(err.message).toMatch(/is newer than this build of Sluice/);
      expect(err.message).toMatch(/2099-01-01/);
    } finally {
      await database.drop();
    }
  });
});

describe('openPostgres', DATABASE_TESTS, () => {
  it('hides the password of a URL it names', () => {
    expect(redactUrl(`postgres://sluice:${PASSWORD}@db.internal:5432/sluice`)).toBe(
      'postgres://sluice:***@db.internal:5432/sluice',
    );
    expect(redactUrl('postgres://sluice@db/x')).toBe('postgres://sluice@db/x');
    expect(redactUrl(`postgres://sluice:p@ss:${PASSWORD}@db/x`)).toBe('postgres://sluice:***@db/x');
    expect(redactUrl(`postgresql://db/x?user=sluice&password=${PASSWORD}`)).not.toContain(PASSWORD);
    expect(redactUrl(`not a url ${PASSWORD}`)).not.toContain(PASSWORD);
  });

  it('migrates once when several processes start together, then opens an up-to-date database as is', async () => {
    const database = await createTestDatabase();
    try {
      const opened = await Promise.all(Array.from({ length: 4 }, () => openPostgres(database.url, { poolSize: 2 })));
      const applied = await opened[0]?.$client.query('SELECT hash FROM drizzle.__drizzle_migrations');
      const again = await openPostgres(database.url);
      const after = await again.$client.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
      expect(after.rows[0].n).toBe(applied?.rowCount);
      expect(applied?.rowCount).toBeGreaterThan(0);
      expect(new Set(applied?.rows.map((r) => r.hash)).size).toBe(applied?.rowCount);
      for (const db of [...opened, again]) await db.$client.end();
    } finally {
      await database.drop();
    }
  });

  it("ends a session idle inside a transaction before a run's lease could expire: 10 s, or two thirds of a shorter lease", async () => {
    expect(idleInTransactionFor(undefined)).toBe(10_000);
    expect(idleInTransactionFor(15_000)).toBe(10_000);
    expect(idleInTransactionFor(4_500)).toBe(3_000);
    const database = await createTestDatabase();
    try {
      const storage = await openPostgresStorage(database.url, { leaseTtlMs: 4_500 });
      const shown = await storage.db.$client.query<{ v: string }>(
        "SELECT current_setting('idle_in_transaction_session_timeout') AS v",
      );
      expect(shown.rows[0]?.v).toBe('3s');
      expect(storage.leases.ttlMs).toBe(4_500);
      await storage.close();
    } finally {
      await database.drop();
    }
  });

  it('builds, through its migrations, the tables, columns and indexes schema.ts declares', async () => {
    await withTestDatabase(async (db) => {
      const columns = await db.$client.query<{ table_name: string; column_name: string }>(
        `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'`,
      );
      const indexes = await db.$client.query<{ tablename: string; indexname: string }>(
        // primary keys and unique constraints bring indexes of their own: the declared ones are compared
        `SELECT t.relname AS tablename, i.relname AS indexname FROM pg_index x
           JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)`,
      );
      const actual: Record<string, { columns: string[]; indexes: string[] }> = {};
      const of = (t: string) => (actual[t] ??= { columns: [], indexes: [] });
      for (const c of columns.rows) of(c.table_name).columns.push(c.column_name);
      for (const i of indexes.rows) of(i.tablename).indexes.push(i.indexname);
      const declared: typeof actual = {};
      for (const table of Object.values(schema)) {
        if (!(table instanceof PgTable)) continue;
        const config = getTableConfig(table);
        declared[config.name] = {
          columns: config.columns.map((c) => c.name),
          indexes: config.indexes.map((i) => i.config.name ?? ''),
        };
      }
      const sorted = (r: typeof actual) =>
        Object.fromEntries(
          Object.entries(r)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([t, v]) => [t, { columns: v.columns.sort(), indexes: v.indexes.sort() }]),
        );
      expect(sorted(actual)).toEqual(sorted(declared));
    });
  });

  it('lives on when the server ends a session checked out idle inside a transaction: its next query fails, the pool goes on', async () => {
    await withTestDatabase(async (_db, url) => {
      const db = await openPostgres(url, { poolSize: 2 });
      try {
        const client = await db.$client.connect();
        // as a process frozen inside a write transaction past IDLE_IN_TRANSACTION_MS meets it, sooner
        await client.query('SET idle_in_transaction_session_timeout = 100');
        await client.query('BEGIN');
        await client.query('SELECT 1');
        await new Promise((r) => setTimeout(r, 600));
        await expect(client.query('SELECT 2')).rejects.toThrow();
        client.release();
        expect((await db.$client.query('SELECT 3 AS n')).rows[0].n).toBe(3);
      } finally {
        await db.$client.end();
      }
    });
  });

  it('points its test databases at the test server', () => {
    expect(withDatabase('postgres://u:p@h:1/a?sslmode=disable', 'b')).toBe('postgres://u:p@h:1/b?sslmode=disable');
  });
});
