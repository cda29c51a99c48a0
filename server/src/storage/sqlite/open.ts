import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { MIGRATIONS_OF_SQLITE } from '../../paths.js';
import * as schema from './schema.js';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

let newest: number | undefined;

/**
 * When this build's newest migration was made (drizzle's `folderMillis`, what a database records as
 * applied): read once.
 */
export function latestMigrationMillis(): number {
  newest ??= Math.max(0, ...readMigrationFiles({ migrationsFolder: MIGRATIONS_OF_SQLITE }).map((m) => m.folderMillis));
  return newest;
}

/** A database a newer build of Sluice has migrated: this build does not know its schema. */
export class NewerDatabaseError extends Error {
  constructor(
    readonly file: string,
    readonly recorded: number,
    readonly known: number,
  ) {
    super(
      `${file} was migrated by a newer Sluice (its last migration is of ${new Date(recorded).toISOString()}, ` +
        `this build's of ${new Date(known).toISOString()}): run the newer Sluice, or restore a backup this build made`,
    );
    this.name = 'NewerDatabaseError';
  }
}

/** Refuses a database that records a migration newer than every migration of this build. */
function refuseNewer(client: Database.Database, file: string): void {
  const recorded = recordedMigration(client);
  const known = latestMigrationMillis();
  if (recorded !== null && recorded > known) throw new NewerDatabaseError(file, recorded, known);
}

/** The newest migration the database records as applied (ms), or null when it records none. */
export function recordedMigration(client: Database.Database): number | null {
  // asked apart: a statement naming a table that does not exist (a new file) is refused when prepared
  const exists = client
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'")
    .get();
  if (!exists) return null;
  const found = client.prepare('SELECT max(created_at) AS latest FROM __drizzle_migrations').get() as {
    latest: number | null;
  };
  return found.latest === null ? null : Number(found.latest);
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
    // applying this build's migrations to a newer schema would run on tables it does not know
    refuseNewer(client, file);
    migrate(db, { migrationsFolder: MIGRATIONS_OF_SQLITE });
  } catch (err) {
    client.close();
    throw err;
  }
  return db;
}
