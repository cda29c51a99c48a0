import { SqlFailure } from '@sluice/engine';
import pg from 'pg';
import type { SqlConnectionConfig } from './config.js';
import { CredentialsRefused, type Driver, type Outcome, type Session, StatementError } from './session.js';
import type { Statement } from './statements.js';
import { jsonReady } from './values.js';

const TEXT_TYPES = [1082, 1083, 1114, 1184, 1266]; // date, time, timestamp, timestamptz, timetz
const INT8 = 20;

/** Times as the database writes them (exact, and bound back as is); big integers as numbers when exact. */
const types = {
  getTypeParser(oid: number, format?: string) {
    if (TEXT_TYPES.includes(oid)) return (value: string) => value;
    if (oid === INT8)
      return (value: string) => {
        const n = Number(value);
        return Number.isSafeInteger(n) ? n : value;
      };
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/**
 * A pg error as the SQL port reports it: connection failures (no answer, refused, dropped, the
 * server shutting down or out of resources, authentication), timeouts and deadlocks count against
 * the connection and are retried; anything else is the statement's (a constraint, no such table), with its SQLSTATE.
 */
export function pgFailure(err: unknown): SqlFailure {
  const e = err as { code?: string; message?: string };
  const message = e.message ?? String(err);
  const code = e.code ?? '';
  // a statement cancelled by its timeout, and the transaction-wide refusals worth a retry (a
  // serialization failure, a deadlock, a lock not available): they roll back more than a savepoint
  if (['57014', '40001', '40P01', '55P03'].includes(code) || /timeout/i.test(message))
    return new SqlFailure(`PostgreSQL: ${message}`, 'timeout');
  if (/^28/.test(code)) return new CredentialsRefused(`PostgreSQL: ${message}`);
  if (!/^[0-9A-Z]{5}$/.test(code) || /^(08|53|57P)/.test(code))
    return new SqlFailure(`PostgreSQL: ${message}`, 'connection');
  // 42P01 no such table, 42703 no such column, 42601 syntax, 42501 no privilege: every row would fail alike
  return new StatementError(message, code, ['42P01', '42703', '42601', '42501'].includes(code));
}

/** A pooled PostgreSQL connection (pg), with connect and statement timeouts. */
export function postgresDriver(config: SqlConnectionConfig, timeoutMs: number): Driver {
  const pool = new pg.Pool({
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    ...(config.password !== undefined ? { password: config.password } : {}),
    ssl: config.tls === 'off' ? false : { rejectUnauthorized: config.tls === 'verify' },
    max: 8,
    connectionTimeoutMillis: 10_000,
    statement_timeout: timeoutMs,
    query_timeout: timeoutMs + 5_000,
    idleTimeoutMillis: 30_000,
    allowExitOnIdle: true,
    application_name: 'sluice-flow',
    types,
  });
  pool.on('error', () => {}); // an idle connection dropped: the next query gets a fresh one
  const run = async (client: pg.PoolClient | pg.Pool, statement: Statement): Promise<Outcome> => {
    try {
      const result = await client.query({ text: statement.text, values: statement.values });
      return { rows: result.rows.map(jsonReady), affected: result.rowCount ?? 0 };
    } catch (err) {
      throw pgFailure(err);
    }
  };
  return {
    dialect: 'postgres',
    statementAtomic: false,
    query: (statement) => run(pool, statement),
    async transaction(body) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw pgFailure(err);
      }
      let broken = false;
      try {
        const session: Session = { run: (s) => run(client, s) };
        await session.run({ text: 'BEGIN', values: [] });
        const value = await body(session);
        await session.run({ text: 'COMMIT', values: [] });
        return value;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw err;
      } finally {
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
