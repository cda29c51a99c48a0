import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { openPostgres, type PgDb } from './db.js';

/**
 * Throwaway databases for the tests of the PostgreSQL stores: each test file gets a database of its
 * own, created on the server `SLUICE_TEST_DATABASE_URL` names (`scripts/test.mjs` starts a throwaway
 * cluster and sets it when no server answers), dropped when the file is done. Tests only.
 */

/** The server the test databases are made on (the URL's database is only where CREATE DATABASE is sent). */
export function testServerUrl(): string {
  return process.env.SLUICE_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
}

/** `url` with its database replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testServerUrl(), application_name: 'sluice-tests' });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  /** Its URL (on the test server, with its credentials). */
  url: string;
  /** Drops it, closing whatever connections are still open to it. */
  drop(): Promise<void>;
}

/** Creates an empty database `sluice_test_<random>`; migrations are the opener's to apply. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `sluice_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return {
    url: withDatabase(testServerUrl(), name),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** Runs `body` with a fresh, migrated database, dropped afterwards whatever happens. */
export async function withTestDatabase<T>(body: (db: PgDb, url: string) => Promise<T>): Promise<T> {
  const database = await createTestDatabase();
  try {
    const db = await openPostgres(database.url, { poolSize: 20 });
    try {
      return await body(db, database.url);
    } finally {
      await db.$client.end();
    }
  } finally {
    await database.drop();
  }
}

/**
 * The test file's database: created and migrated before its tests, dropped after them. Read `db`
 * and `url` inside tests (they are set by then).
 */
export function useTestDatabase(): { readonly db: PgDb; readonly url: string } {
  let database: TestDatabase | undefined;
  let db: PgDb | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = await openPostgres(database.url, { poolSize: 20 });
  }, 60_000);
  afterAll(async () => {
    await db?.$client.end();
    await database?.drop();
  });
  return {
    get db() {
      if (!db) throw new Error('the test database is opened before the tests (beforeAll)');
      return db;
    },
    get url() {
      if (!database) throw new Error('the test database is created before the tests (beforeAll)');
      return database.url;
    },
  };
}

/**
 * Options for a describe of database tests: creating and migrating a database, or ten concurrent
 * transactions, take seconds on a busy machine, past vitest's default 5.
 */
export const DATABASE_TESTS = { timeout: 30_000 };
