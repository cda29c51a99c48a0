import { SqlFailure, type SqlPort } from '@sluice/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlConnectionConfig } from './config.js';
import { SqlConnections } from './connections.js';
import { useSqlTestDatabases } from './test-databases.js';

const dbs = useSqlTestDatabases();

/** Runs DDL or seeding SQL on the test database of a kind (written for both: plain types only). */
async function exec(kind: 'postgres' | 'mysql', sql: string): Promise<void> {
  if (kind === 'postgres') await dbs.postgres.client.query(sql);
  else await dbs.mysql.client.query(sql);
}

async function rows(kind: 'postgres' | 'mysql', sql: string): Promise<Record<string, unknown>[]> {
  if (kind === 'postgres') return (await dbs.postgres.client.query(sql)).rows;
  const [result] = await dbs.mysql.client.query(sql);
  return result as Record<string, unknown>[];
}

describe.each(['postgres', 'mysql'] as const)('the SQL port on %s', (kind) => {
  let port: SqlConnections;
  let configs: Record<string, SqlConnectionConfig>;
  beforeAll(async () => {
    configs = {
      db: dbs[kind].config,
      down: { ...dbs[kind].config, port: 1 },
    };
    port = new SqlConnections((name) => configs[name], 2_000);
    await exec(
      kind,
      'CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, qty INT, changed VARCHAR(30), writes INT)',
    );
    const values = Array.from(
      { length: 25 },
      (_, i) => `(${i + 1}, 'item ${i + 1}', ${i}, '2026-01-${String((i % 9) + 1).padStart(2, '0')}', 1)`,
    );
    await exec(kind, `INSERT INTO items (id, name, qty, changed, writes) VALUES ${values.join(', ')}`);
  });
  afterAll(() => port.close());

  it('reads by keyset: each page starts after the last key of the one before, in key order', async () => {
    const seen: number[] = [];
    let after: number | undefined;
    let pages = 0;
    for (;;) {
      const page = await port.read('db', {
        table: 'items',
        columns: ['id', 'name'],
        keyColumn: 'id',
        pageSize: 10,
        ...(after !== undefined ? { after } : {}),
      });
      pages++;
      for (const row of page) seen.push(row.id as number);
      expect(Object.keys(page[0] ?? { id: 0, name: '' })).toEqual(['id', 'name']);
      if (page.length < 10) break;
      after = page[page.length - 1]?.id as number;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it('reads a SELECT as a subquery, with a watermark bound as a value', async () => {
    const page = await port.read('db', {
      query: 'SELECT id, qty, changed FROM items WHERE qty >= 3',
      columns: [],
      keyColumn: 'id',
      pageSize: 100,
      after: 4,
      watermark: { column: 'changed', after: '2026-01-08' },
    });
    // day 9 of the month (ids 9 and 18) is past the watermark; ids 1-4 come before the keyset's start
    expect(page.map((r) => r.id)).toEqual([9, 18]);
  });

  it('looks keys up with one IN list', async () => {
    const found = await port.lookup('db', {
      table: 'items',
      keyColumn: 'id',
      columns: ['id', 'qty'],
      keys: [3, 5, 999],
    });
    expect(found.sort((a, b) => (a.id as number) - (b.id as number))).toEqual([
      { id: 3, qty: 2 },
      { id: 5, qty: 4 },
    ]);
  });

  it('writes a group in one transaction: a row violating NOT NULL fails alone with the database message', async () => {
    await exec(kind, 'CREATE TABLE target (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, qty INT, writes INT)');
    const results = await port.write('db', {
      table: 'target',
      mode: 'upsert',
      keyColumns: ['id'],
      columns: ['id', 'name', 'qty'],
      counterColumn: 'writes',
      rows: [
        [1, 'one', 1],
        [2, null, 2],
        [3, 'three', 3],
      ],
    });
    expect(results[0]).toEqual({ ok: true });
    expect(results[2]).toEqual({ ok: true });
    const failed = results[1] as { ok: false; message: string; code: string };
    expect(failed.ok).toBe(false);
    expect(failed.message).toMatch(
      kind === 'postgres' ? /null value in column "name"/ : /Column 'name' cannot be null/,
    );
    expect(failed.code).toBe(kind === 'postgres' ? '23502' : 'ER_BAD_NULL_ERROR');
    expect(await rows(kind, 'SELECT id, name, writes FROM target ORDER BY id')).toEqual([
      { id: 1, name: 'one', writes: 1 },
      { id: 3, name: 'three', writes: 1 },
    ]);
  });

  it('upserts change a row only when its values differ, raising the counter once per change', async () => {
    const write = (rowsIn: (string | number | null)[][]) =>
      port.write('db', {
        table: 'target',
        mode: 'upsert',
        keyColumns: ['id'],
        columns: ['id', 'name', 'qty'],
        counterColumn: 'writes',
        rows: rowsIn,
      });
    expect(
      await write([
        [1, 'one', 1],
        [3, 'three', 3],
      ]),
    ).toEqual([{ ok: true }, { ok: true }]);
    expect(
      await write([
        [1, 'one', 10],
        [4, 'four', 4],
      ]),
    ).toEqual([{ ok: true }, { ok: true }]);
    expect(await rows(kind, 'SELECT id, qty, writes FROM target ORDER BY id')).toEqual([
      { id: 1, qty: 10, writes: 2 },
      { id: 3, qty: 3, writes: 1 },
      { id: 4, qty: 4, writes: 1 },
    ]);
  });

  it('updates by key: a key with no row fails alone; an insert of an existing key fails alone', async () => {
    const updated = await port.write('db', {
      table: 'target',
      mode: 'update',
      keyColumns: ['id'],
      columns: ['id', 'qty'],
      counterColumn: 'writes',
      rows: [
        [3, 30],
        [77, 1],
      ],
    });
    expect(updated[0]).toEqual({ ok: true });
    expect(updated[1]).toMatchObject({ ok: false, code: 'sql_no_row' });
    // the same values again: the row is found, nothing changes, the counter stays
    const same = await port.write('db', {
      table: 'target',
      mode: 'update',
      keyColumns: ['id'],
      columns: ['id', 'qty'],
      counterColumn: 'writes',
      rows: [[3, 30]],
    });
    expect(same).toEqual([{ ok: true }]);
    const inserted = await port.write('db', {
      table: 'target',
      mode: 'insert',
      keyColumns: [],
      columns: ['id', 'name'],
      rows: [
        [5, 'five'],
        [3, 'again'],
      ],
    });
    expect(inserted[0]).toEqual({ ok: true });
    expect(inserted[1]).toMatchObject({ ok: false, code: kind === 'postgres' ? '23505' : 'ER_DUP_ENTRY' });
    expect(await rows(kind, 'SELECT id, qty, writes FROM target WHERE id IN (3, 5) ORDER BY id')).toEqual([
      { id: 3, qty: 30, writes: 2 },
      { id: 5, qty: null, writes: null },
    ]);
  });

  it('fails every row of a group at once when the statement itself is refused (no such column)', async () => {
    const results = await port.write('db', {
      table: 'target',
      mode: 'upsert',
      keyColumns: ['id'],
      columns: ['id', 'nope'],
      rows: [
        [1, 'x'],
        [2, 'y'],
      ],
    });
    expect(results).toEqual([
      expect.objectContaining({ ok: false, code: kind === 'postgres' ? '42703' : 'ER_BAD_FIELD_ERROR' }),
      expect.objectContaining({ ok: false, code: kind === 'postgres' ? '42703' : 'ER_BAD_FIELD_ERROR' }),
    ]);
    expect((results[0] as { message: string }).message).toMatch(/nope/);
  });

  it('refuses a name that is not an identifier, and a missing table, as statement errors naming them', async () => {
    const sql: SqlPort = port;
    await expect(
      sql.read('db', { table: 'items; DROP TABLE items', columns: [], keyColumn: 'id', pageSize: 5 }),
    ).rejects.toMatchObject({
      code: 'statement',
      message: expect.stringContaining('table "items; DROP TABLE items"'),
    });
    await expect(
      sql.lookup('db', { table: 'items', keyColumn: 'id"--', columns: [], keys: [1] }),
    ).rejects.toMatchObject({
      code: 'statement',
      message: expect.stringContaining('column "id"--"'),
    });
    await expect(sql.read('db', { table: 'nowhere', columns: [], keyColumn: 'id', pageSize: 5 })).rejects.toMatchObject(
      {
        code: 'statement',
      },
    );
    expect((await rows(kind, 'SELECT COUNT(*) AS n FROM items'))[0]).toEqual({ n: kind === 'postgres' ? '25' : 25 });
  });

  it('reports a statement that runs past the timeout as a timeout, and goes on working after it', async () => {
    const slow =
      kind === 'postgres' ? 'SELECT 1 AS id FROM pg_sleep(3)' : 'SELECT 1 AS id FROM (SELECT SLEEP(3) AS s) AS w';
    const err = await port
      .read('db', { query: slow, columns: [], keyColumn: 'id', pageSize: 5 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SqlFailure);
    expect((err as SqlFailure).code).toBe('timeout');
    const page = await port.read('db', { table: 'items', columns: ['id'], keyColumn: 'id', pageSize: 2 });
    expect(page).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('reports a database that does not answer as a connection failure, and checks with SELECT 1', async () => {
    const err = await port
      .read('down', { table: 'items', columns: [], keyColumn: 'id', pageSize: 5 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SqlFailure);
    expect((err as SqlFailure).code).toBe('connection');
    expect(await port.check('db')).toMatchObject({ ok: true });
    expect(await port.check('down')).toMatchObject({ ok: false });
  });
});

describe('the SQL port on MySQL', () => {
  it('writes in strict mode, whatever the server’s default', async () => {
    const port = new SqlConnections(() => dbs.mysql.config);
    const [mode] = await port.read('db', {
      query: 'SELECT 1 AS id, @@SESSION.sql_mode AS mode',
      columns: [],
      keyColumn: 'id',
      pageSize: 1,
    });
    expect(String(mode?.mode).split(',')).toContain('STRICT_ALL_TABLES');
    await port.close();
  });
});
