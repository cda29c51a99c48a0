import { SqlFailure } from '@sluice/engine';
import { describe, expect, it } from 'vitest';
import { parseSqlUrl } from './config.js';
import {
  insertStatement,
  lookupStatement,
  quoteName,
  quoteTable,
  readStatement,
  updateStatement,
} from './statements.js';

describe('identifiers', () => {
  it('quotes plain names for each dialect', () => {
    expect(quoteName('postgres', 'order_id')).toBe('"order_id"');
    expect(quoteName('mysql', 'order_id')).toBe('`order_id`');
    expect(quoteTable('postgres', 'sales.orders')).toBe('"sales"."orders"');
    expect(quoteTable('mysql', '_t1')).toBe('`_t1`');
  });

  it.each(['id"; DROP TABLE x; --', 'a b', '1st', 'na`me', 'é', '', 'a'.repeat(64), 'x.y'])(
    'refuses the column %j, naming it',
    (name) => {
      const call = () => quoteName('postgres', name);
      expect(call).toThrow(SqlFailure);
      expect(call).toThrow(`column "${name}" is not a plain SQL name`);
    },
  );

  it.each(['a.b.c', 'orders;', 'sales..orders', '"orders"', 'orders --'])('refuses the table %j', (table) => {
    expect(() => quoteTable('mysql', table)).toThrow(`table "${table}"`);
  });
});

describe('statements', () => {
  it('pages by keyset, never by OFFSET, with every value bound', () => {
    const first = readStatement('postgres', {
      table: 'orders',
      columns: ['id', 'total'],
      keyColumn: 'id',
      pageSize: 500,
    });
    expect(first).toEqual({ text: 'SELECT "id", "total" FROM "orders" ORDER BY "id" LIMIT 500', values: [] });
    const next = readStatement('mysql', {
      query: 'SELECT * FROM orders WHERE total > 10',
      columns: [],
      keyColumn: 'id',
      pageSize: 100,
      after: "9' OR 1=1",
      watermark: { column: 'updated_at', after: '2026-01-01' },
    });
    expect(next.text).toBe(
      'SELECT * FROM (SELECT * FROM orders WHERE total > 10) AS sluice_rows WHERE `id` > ? AND `updated_at` > ? ORDER BY `id` LIMIT 100',
    );
    expect(next.values).toEqual(["9' OR 1=1", '2026-01-01']);
    expect(next.text).not.toMatch(/OFFSET/i);
  });

  it('upserts only rows whose values change, with a counter', () => {
    const request = {
      table: 'target',
      mode: 'upsert' as const,
      keyColumns: ['id'],
      columns: ['id', 'name'],
      counterColumn: 'writes',
      rows: [],
    };
    expect(
      insertStatement('postgres', request, [
        [1, 'a'],
        [2, null],
      ]).text,
    ).toBe(
      'INSERT INTO "target" AS t ("id", "name", "writes") VALUES ($1, $2, 1), ($3, $4, 1) ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name", "writes" = t."writes" + 1 WHERE ROW(t."name") IS DISTINCT FROM ROW(EXCLUDED."name")',
    );
    expect(insertStatement('mysql', request, [[1, 'a']]).text).toBe(
      'INSERT INTO `target` (`id`, `name`, `writes`) VALUES (?, ?, 1) ON DUPLICATE KEY UPDATE `writes` = `writes` + IF(`name` <=> VALUES(`name`), 0, 1), `name` = VALUES(`name`)',
    );
    expect(updateStatement('postgres', { ...request, mode: 'update' }, [7, 'x'])).toEqual({
      text: 'UPDATE "target" SET "writes" = "writes" + CASE WHEN "name" IS NOT DISTINCT FROM $1 THEN 0 ELSE 1 END, "name" = $2 WHERE "id" = $3',
      values: ['x', 'x', 7],
    });
  });

  it('looks keys up with one IN list', () => {
    expect(lookupStatement('postgres', { table: 'c', keyColumn: 'code', columns: [], keys: ['a', 'b'] })).toEqual({
      text: 'SELECT * FROM "c" WHERE "code" IN ($1, $2)',
      values: ['a', 'b'],
    });
  });
});

describe('connection URLs', () => {
  it('reads host, port, database and TLS, and names what is wrong', () => {
    expect(parseSqlUrl('postgres://db.example/sales?tls=require')).toEqual({
      kind: 'postgres',
      host: 'db.example',
      port: 5432,
      database: 'sales',
      tls: 'require',
    });
    expect(parseSqlUrl('mysql://127.0.0.1:3307/shop')).toMatchObject({ kind: 'mysql', port: 3307, tls: 'off' });
    expect(parseSqlUrl('mysql://u:p@h/db')).toMatch(/must not hold a user or password/);
    expect(parseSqlUrl('postgres://h/')).toMatch(/needs a database name/);
    expect(parseSqlUrl('postgres://h/db?tls=maybe')).toMatch(/tls must be one of off, require, verify/);
    expect(parseSqlUrl('postgres://h/db?ssl=1')).toMatch(/unknown parameter "ssl"/);
  });
});
