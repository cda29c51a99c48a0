import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { MIGRATIONS_OF_POSTGRES } from '../../paths.js';
import * as schema from './schema.js';

/**
 * Opening Sluice's PostgreSQL database: the pool every store of `storage/postgres/` shares, and the
 * checks a start makes before anything is served (the URL, the server, the schema's version). Many
 * processes may share one database; each opens its own pool.
 */

/** The drizzle instance the PostgreSQL stores take, over the process's pool. */
export type PgDb = NodePgDatabase<typeof schema> & { $client: pg.Pool };

/** The environment variable the URL comes from, named by every start error so the fix is plain. */
export const DATABASE_URL_VARIABLE = 'SLUICE_DATABASE_URL';

/** drizzle's own record of the migrations applied (its defaults, spelled out for the version check). */
const MIGRATIONS_SCHEMA = 'drizzle';
const MIGRATIONS_TABLE = '__drizzle_migrations';

/**
 * The advisory lock a process holds while it checks and applies migrations ("slui", 1): processes
 * starting together take turns, and the second finds the schema already current.
 */
const MIGRATION_LOCK = [0x736c7569, 1] as const;

/** How long a start waits for the server to answer before it says it cannot reach it. */
const START_TIMEOUT_MS = 10_000;

/**
 * How long a query waits for a connection (a new one, or one of a busy pool) before it fails: long
 * enough for a burst to drain, short enough that a server gone silent surfaces as an error.
 */
const CONNECT_TIMEOUT_MS = 30_000;

/**
 * The database cannot be used, for a reason the operator must fix (the URL, the server, the schema):
 * its message is one line naming SLUICE_DATABASE_URL, meant to be printed as is, without a stack.
 */
export class StorageStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageStartError';
  }
}

/** The URL with its password replaced by `***`, for messages and logs; a URL that does not parse, wholly hidden. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    // libpq also takes it as a parameter
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
    return parsed.toString();
  } catch {
    return '(a URL that does not parse)';
  }
}

/** Where the URL points, as `host:port`, for "cannot reach" messages. */
function hostOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}`;
  } catch {
    return 'the server';
  }
}

/**
 * How long a session may sit inside a transaction doing nothing before the server ends it. Every
 * transaction Sluice opens is short (a write group, a batch of a prune, a claim); one left open is a
 * process frozen in the middle (stopped, swapped out, cut off), whose row locks would otherwise keep
 * its runs from ever being claimed by another process: claims skip locked rows. Below the lease time
 * (15 s by default; two thirds of a shorter one), so the run is free by the time its lease expires.
 */
export const IDLE_IN_TRANSACTION_MS = 10_000;

/** The idle-in-transaction limit for a lease time: 10 s, or two thirds of a shorter lease. */
export const idleInTransactionFor = (leaseTtlMs: number | undefined) =>
  Math.min(IDLE_IN_TRANSACTION_MS, Math.floor(((leaseTtlMs ?? Number.POSITIVE_INFINITY) * 2) / 3));

/** A pool on the database at `url`. Connections are made as they are needed; nothing is checked here. */
export function createPool(url: string, size = 10, idleInTransactionMs = IDLE_IN_TRANSACTION_MS): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: size,
    application_name: 'sluice',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idle_in_transaction_session_timeout: idleInTransactionMs,
  });
  // an idle connection the server drops (a restart, a terminated backend) is discarded by the pool;
  // without a listener its error event would end the process
  pool.on('error', () => {});
  // so would one dropped while checked out between two statements: a session ended inside a write
  // transaction of a process frozen past IDLE_IN_TRANSACTION_MS, which reads the server's last words
  // when it wakes. Listened to, the error fails the connection's next query instead, and the pool
  // discards the connection when it is released
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** The drizzle instance over a pool. */
export function pgDb(pool: pg.Pool): PgDb {
  return drizzle(pool, { schema }) as PgDb;
}

/** A connection failure as one line: what went wrong, in the words an operator acts on. */
function startError(err: unknown, url: string): StorageStartError {
  const e = err as { code?: string; message?: string; errors?: { code?: string }[] };
  // Node reports a host with several addresses (localhost: ::1 and 127.0.0.1) as an AggregateError
  const code = e.code ?? e.errors?.[0]?.code;
  const reason: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'no such host',
    EAI_AGAIN: 'the host name could not be resolved',
    ETIMEDOUT: 'timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ECONNRESET: 'the connection was reset',
  };
  if (code && reason[code]) {
    return new StorageStartError(`${DATABASE_URL_VARIABLE}: cannot reach ${hostOf(url)}: ${reason[code]}`, {
      cause: err,
    });
  }
  if (/timeout/i.test(e.message ?? '')) {
    return new StorageStartError(`${DATABASE_URL_VARIABLE}: cannot reach ${hostOf(url)}: timed out`, { cause: err });
  }
  // PostgreSQL's own reason (bad password, unknown role or database) names neither the password nor the URL
  const message = (e.message ?? String(err)).split('\n')[0];
  return new StorageStartError(`${DATABASE_URL_VARIABLE}: PostgreSQL at ${redactUrl(url)} refused: ${message}`, {
    cause: err,
  });
}

let newestKnown: number | undefined;

/** The newest migration this build has, as drizzle records it (its folder time, ms): read once. */
export function newestKnownMigration(): number {
  newestKnown ??= Math.max(
    0,
    ...readMigrationFiles({ migrationsFolder: MIGRATIONS_OF_POSTGRES }).map((m) => m.folderMillis),
  );
  return newestKnown;
}

/** The newest migration the database records as applied (ms), or null when it records none. */
export async function recordedMigration(db: PgDb): Promise<number | null> {
  const table = `${MIGRATIONS_SCHEMA}.${MIGRATIONS_TABLE}`;
  const exists = await db.$client.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [table]);
  if (!exists.rows[0]?.found) return null;
  const latest = await db.$client.query<{ latest: string | null }>(
    `SELECT max(created_at)::text AS latest FROM ${MIGRATIONS_SCHEMA}."${MIGRATIONS_TABLE}"`,
  );
  const value = latest.rows[0]?.latest;
  return value === null || value === undefined ? null : Number(value);
}

/**
 * Opens the database at `url`: refuses a URL that is not PostgreSQL's, connects, and brings the
 * schema up to this build under an advisory lock, so two processes starting at once never both
 * migrate. A database whose schema a newer build has migrated is refused rather than used: this
 * build would read and write tables it does not know. Every refusal is a `StorageStartError`.
 */
export async function openPostgres(
  url: string,
  options: { poolSize?: number; idleInTransactionMs?: number } = {},
): Promise<PgDb> {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme !== 'postgres' && scheme !== 'postgresql') {
    const said = scheme ? `a ${scheme}:// URL (${redactUrl(url)})` : 'something that is not a URL';
    throw new StorageStartError(`${DATABASE_URL_VARIABLE}: expected a postgres:// or postgresql:// URL, got ${said}`);
  }
  // the checks and the migrations on a connection of their own, its session holding the lock: a
  // start that fails (or dies) drops it with the lock
  const client = new pg.Client({
    connectionString: url,
    application_name: 'sluice',
    connectionTimeoutMillis: START_TIMEOUT_MS,
  });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw startError(err, url);
  }
  try {
    await client.query('SELECT pg_advisory_lock($1, $2)', [...MIGRATION_LOCK]);
    await refuseNewerSchema(client, url);
    await migrate(drizzle(client), {
      migrationsFolder: MIGRATIONS_OF_POSTGRES,
      migrationsSchema: MIGRATIONS_SCHEMA,
      migrationsTable: MIGRATIONS_TABLE,
    });
    await client.query('SELECT pg_advisory_unlock($1, $2)', [...MIGRATION_LOCK]);
  } catch (err) {
    if (err instanceof StorageStartError) throw err;
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new StorageStartError(`${DATABASE_URL_VARIABLE}: migrating the database failed: ${reason}`, { cause: err });
  } finally {
    await client.end().catch(() => {});
  }
  return pgDb(createPool(url, options.poolSize, options.idleInTransactionMs));
}

/** Refuses a database that records a migration newer than every migration of this build. */
async function refuseNewerSchema(client: pg.Client, url: string): Promise<void> {
  const table = `${MIGRATIONS_SCHEMA}.${MIGRATIONS_TABLE}`;
  const exists = await client.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [table]);
  if (!exists.rows[0]?.found) return;
  const latest = await client.query<{ latest: string | null }>(
    `SELECT max(created_at)::text AS latest FROM ${MIGRATIONS_SCHEMA}."${MIGRATIONS_TABLE}"`,
  );
  const recorded = Number(latest.rows[0]?.latest ?? 0);
  const known = newestKnownMigration();
  if (recorded > known) {
    throw new StorageStartError(
      `${DATABASE_URL_VARIABLE}: the database at ${redactUrl(url)} is newer than this build of Sluice ` +
        `(its schema has a migration of ${new Date(recorded).toISOString()}, this build's newest is of ` +
        `${new Date(known).toISOString()}): run the newer Sluice, or point ${DATABASE_URL_VARIABLE} at another database`,
    );
  }
}

/** The pool's current number of connections and of callers waiting for one (for health and tests). */
export function poolUsage(db: PgDb): { total: number; idle: number; waiting: number } {
  const pool = db.$client;
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}

/** Whether the database answers (a trivial query through the pool). */
export async function ping(db: PgDb): Promise<void> {
  await db.execute(sql`SELECT 1`);
}
