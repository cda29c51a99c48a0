import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import * as schema from './schema.js';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

const MIGRATIONS = fileURLToPath(new URL('../../../drizzle', import.meta.url));

let newest: number | undefined;

/** The newest migration this build has, as drizzle records it (its folder time, ms): read once. */
export function newestMigration(): number {
  newest ??= Math.max(0, ...readMigrationFiles({ migrationsFolder: MIGRATIONS }).map((m) => m.folderMillis));
  return newest;
}

/** The newest migration the database records as applied (ms), or null when it records none. */
export function recordedMigration(client: Database.Database): number | null {
  const found = client
    .prepare(
      "SELECT (SELECT max(created_at) FROM __drizzle_migrations) AS latest WHERE EXISTS (SELECT 1 FROM sqlite_master WHERE name = '__drizzle_migrations')",
    )
    .get() as { latest: number | null } | undefined;
  return found?.latest ?? null;
}

/** The SQLite file inside a data directory. */
export function databaseFile(dataDir: string): string {
  return path.join(dataDir, 'sluice.sqlite');
}

/** Settings of every connection to the database (the run store's writer thread opens its own). */
export const CONNECTION_PRAGMAS = [
  'journal_mode = WAL',
  'synchronous = NORMAL',
  'foreign_keys = ON',
  'busy_timeout = 5000',
] as const;

/** How much of the file the main connection reads through memory-mapped pages (SQLite's usual cap). */
export const READ_MMAP_BYTES = 2_147_418_112;

/**
 * Opens (or creates) the database, in WAL mode, and applies the committed migrations. WAL lets the
 * API read while a run writes; synchronous=NORMAL keeps commits durable across a process crash.
 * The server and the CLI open it with `openSqliteStorage` (index.ts, through `openStoreDatabase` in
 * convert-outcomes.ts), which also converts record outcomes stored before the packed layout.
 */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const client = new Database(file);
  for (const pragma of CONNECTION_PRAGMAS) client.pragma(pragma);
  // the API's reads (one key's history touches a packed row in each of a hundred runs) go through
  // memory-mapped pages rather than a read call per page: measured, about a quarter less time
  client.pragma(`mmap_size = ${READ_MMAP_BYTES}`);
  const db = drizzle(client, { schema }) as Db;
  try {
    migrate(db, { migrationsFolder: MIGRATIONS });
  } catch (err) {
    client.close();
    throw err;
  }
  return db;
}
