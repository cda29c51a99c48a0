import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../storage/postgres/test-database.js';
import type { SqlConnectionConfig } from './config.js';

/**
 * Throwaway databases for the tests of the SQL connector and the flows that use it: a PostgreSQL
 * database (on `SLUICE_TEST_DATABASE_URL`'s server, as the store tests) and a MySQL/MariaDB database
 * on `SLUICE_TEST_MYSQL_URL`'s server (`scripts/test.mjs` starts a throwaway MariaDB and sets it
 * when none answers on 127.0.0.1:3306), each created empty for a test file and dropped after it.
 * Tests only.
 */

/** The MySQL/MariaDB server the test databases are made on (its user needs CREATE and DROP DATABASE). */
export function testMysqlUrl(): string {
  return process.env.SLUICE_TEST_MYSQL_URL || 'mysql://root@127.0.0.1:3306/';
}

/** A connection config for a database of a server URL (user and password taken from the URL). */
export function configFor(url: string, database: string): SqlConnectionConfig {
  const u = new URL(url);
  const kind = u.protocol.startsWith('mysql') ? 'mysql' : 'postgres';
  return {
    kind,
    host: u.hostname,
    port: u.port ? Number(u.port) : kind === 'mysql' ? 3306 : 5432,
    database,
    user: decodeURIComponent(u.username) || (kind === 'mysql' ? 'root' : 'postgres'),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    tls: 'off',
  };
}

/** mysql2's options for a config (only the keys it knows, so it warns of none). */
export function mysqlOptions(config: SqlConnectionConfig): mysql.PoolOptions {
  return {
    host: config.host,
    port: config.port,
    user: config.user,
    ...(config.password !== undefined ? { password: config.password } : {}),
    ...(config.database ? { database: config.database } : {}),
  };
}

/** Creates an empty MySQL/MariaDB database `sluice_test_<random>`. */
export async function createTestMysqlDatabase(): Promise<TestDatabase> {
  const name = `sluice_test_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const conn = await mysql.createConnection(mysqlOptions(configFor(testMysqlUrl(), '')));
    try {
      await conn.query(sql);
    } finally {
      await conn.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(testMysqlUrl());
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name}`) };
}

/** A database of each kind for a test file, with a client on each to set up and check tables. */
export interface SqlTestDatabases {
  readonly postgres: { config: SqlConnectionConfig; client: pg.Pool; url: string };
  readonly mysql: { config: SqlConnectionConfig; client: mysql.Pool; url: string };
}

/** Creates both before the file's tests and drops them after (read the members inside tests). */
export function useSqlTestDatabases(): SqlTestDatabases {
  let pgDb: TestDatabase | undefined;
  let myDb: TestDatabase | undefined;
  let pgClient: pg.Pool | undefined;
  let myClient: mysql.Pool | undefined;
  beforeAll(async () => {
    pgDb = await createTestDatabase();
    myDb = await createTestMysqlDatabase();
    pgClient = new pg.Pool({ connectionString: pgDb.url, max: 4 });
    const my = configFor(myDb.url, new URL(myDb.url).pathname.slice(1));
    myClient = mysql.createPool({ ...mysqlOptions(my), connectionLimit: 4, dateStrings: true });
  }, 60_000);
  afterAll(async () => {
    await pgClient?.end();
    await myClient?.end();
    await pgDb?.drop();
    await myDb?.drop();
  });
  const need = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the test databases are created before the tests (beforeAll)');
    return value;
  };
  return {
    get postgres() {
      const db = need(pgDb);
      return { config: configFor(db.url, new URL(db.url).pathname.slice(1)), client: need(pgClient), url: db.url };
    },
    get mysql() {
      const db = need(myDb);
      return { config: configFor(db.url, new URL(db.url).pathname.slice(1)), client: need(myClient), url: db.url };
    },
  };
}
