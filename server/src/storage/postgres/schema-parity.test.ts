import { is, SQL, type Table } from 'drizzle-orm';
import { PgTable, getTableConfig as pgTableConfig } from 'drizzle-orm/pg-core';
import { SQLiteTable, getTableConfig as sqliteTableConfig } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import * as sqliteSchema from '../sqlite/schema.js';
import * as pgSchema from './schema.js';

/**
 * The two schemas say the same thing: the same tables, columns (nullability, keys, defaults) and
 * indexes (names, columns, uniqueness, partial predicates), so a store written against one layout
 * finds it in the other. Types differ on purpose (schema.ts of each says which); nothing else may.
 */

/** Tables SQLite has that PostgreSQL does not need, and why. */
const SQLITE_ONLY: Record<string, string> = {
  // (the legacy `legacy_record_outcomes` table exists only in SQLite's migrations, not in its schema:
  // the outcomes of SQLite databases from before the packed layout, converted when they are opened.
  // A PostgreSQL database starts packed, so it never had one.)
};

/**
 * Tables PostgreSQL has that SQLite does not need, and why: state the processes on one database share
 * while they run. SQLite serves one process, which keeps it in memory (`storage/local-shared.ts`).
 */
const POSTGRES_ONLY: Record<string, string> = {
  connection_pacing: "connection limits across processes: a connection's maxPerSecond pace",
  connection_places: "connection limits across processes: a connection's maxConcurrent places in use",
  breaker_states: 'breaker states one process published, for the others that missed its notification',
};

/**
 * Tables whose primary key has the same columns in another order on PostgreSQL, and why: an index
 * probe costs several µs there against about 0.4 µs in SQLite, so the order that suits the reads that
 * matter differs, where SQLite's single writer keeps the order that suits it.
 */
const KEY_ORDER_DIFFERS: Record<string, string> = {
  outcome_keys:
    "(key, run, seq): one key's history across the kept runs of its flow is a few entries, not a probe per kept run",
};

/**
 * Columns that land on one side first, in work under way, each with the change that brings the other
 * side level. Compared as soon as both sides have them; the exception goes when they do.
 */
const PENDING_COLUMNS: Record<string, string> = {};

interface Shape {
  columns: Record<string, { notNull: boolean; primary: boolean; unique: boolean; hasDefault: boolean }>;
  primaryKey: string[];
  indexes: Record<string, { columns: string[]; unique: boolean; where: string | null }>;
  foreignKeys: string[];
}

/** A predicate as its SQL text (the schemas write them as plain `sql` strings). */
function sqlText(where: unknown): string | null {
  if (!where) return null;
  if (!is(where, SQL)) return String(where);
  return where.queryChunks
    .map((chunk) => {
      const value = (chunk as { value?: unknown }).value;
      return Array.isArray(value) ? value.join('') : String(value ?? '');
    })
    .join('')
    .trim();
}

function columnName(c: unknown): string {
  return (c as { name: string }).name;
}

function shape(config: ReturnType<typeof pgTableConfig> | ReturnType<typeof sqliteTableConfig>): Shape {
  const columns: Shape['columns'] = {};
  for (const c of config.columns) {
    columns[c.name] = {
      notNull: c.notNull,
      primary: c.primary,
      unique: c.isUnique,
      // an identity is PostgreSQL's spelling of SQLite's integer primary key: the database assigns it
      hasDefault: c.hasDefault || ('generatedIdentity' in c && c.generatedIdentity !== undefined),
    };
  }
  const indexes: Shape['indexes'] = {};
  for (const index of config.indexes) {
    const i = index.config as { name?: string; columns: unknown[]; unique: boolean; where?: unknown };
    indexes[i.name ?? '?'] = { columns: i.columns.map(columnName), unique: i.unique, where: sqlText(i.where) };
  }
  // A unique constraint is how drizzle spells PostgreSQL's UNIQUE NULLS NOT DISTINCT, which its index
  // builder cannot (error_messages_unique: schema.ts says why); it stands for SQLite's unique index.
  for (const u of 'uniqueConstraints' in config ? config.uniqueConstraints : []) {
    indexes[u.getName() ?? '?'] = { columns: u.columns.map(columnName), unique: true, where: null };
  }
  return {
    columns,
    primaryKey: config.primaryKeys.flatMap((pk) => pk.columns.map((c) => c.name)),
    indexes,
    foreignKeys: config.foreignKeys
      .map((fk) => {
        const r = fk.reference();
        const target = (r.foreignTable as unknown as Record<symbol, string>)[Symbol.for('drizzle:Name')];
        return `${r.columns.map(columnName).join(',')} -> ${target}(${r.foreignColumns.map(columnName).join(',')})`;
      })
      .sort(),
  };
}

function tables<T extends Table>(module: Record<string, unknown>, kind: abstract new (...args: never[]) => T): T[] {
  return Object.values(module).filter((v): v is T => v instanceof kind);
}

const sqlite = new Map(tables(sqliteSchema, SQLiteTable).map((t) => [sqliteTableConfig(t).name, t]));
const postgres = new Map(tables(pgSchema, PgTable).map((t) => [pgTableConfig(t).name, t]));

describe('the PostgreSQL schema mirrors the SQLite schema', () => {
  it('has the same tables (bar the stated exceptions)', () => {
    const expected = [...sqlite.keys()].filter((name) => !(name in SQLITE_ONLY)).sort();
    expect([...postgres.keys()].filter((name) => !(name in POSTGRES_ONLY)).sort()).toEqual(expected);
    for (const name of Object.keys(POSTGRES_ONLY)) expect(postgres.has(name), name).toBe(true);
    expect(expected.length).toBeGreaterThan(10);
  });

  it('has a primary key in another order only where it says so', () => {
    for (const name of Object.keys(KEY_ORDER_DIFFERS)) {
      const [a, b] = [sqlite.get(name), postgres.get(name)];
      if (!a || !b) throw new Error(`no table ${name}`);
      expect(shape(pgTableConfig(b)).primaryKey, name).not.toEqual(
        shape(sqliteTableConfig(a as SQLiteTable)).primaryKey,
      );
    }
  });

  for (const [name, table] of sqlite) {
    if (name in SQLITE_ONLY) continue;
    it(`${name}: same columns, keys, indexes and references`, () => {
      const pgTable = postgres.get(name);
      expect(pgTable, `no PostgreSQL table ${name}`).toBeDefined();
      if (!pgTable) return;
      const a = shape(sqliteTableConfig(table as SQLiteTable));
      const b = shape(pgTableConfig(pgTable));
      if (name in KEY_ORDER_DIFFERS) {
        expect([...b.primaryKey].sort()).toEqual([...a.primaryKey].sort());
        b.primaryKey = a.primaryKey;
      }
      for (const column of Object.keys(b.columns)) {
        if (!(column in a.columns) && `${name}.${column}` in PENDING_COLUMNS) delete b.columns[column];
      }
      expect(b).toEqual(a);
    });
  }
});
