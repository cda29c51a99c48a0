import { SqlFailure } from '@sluice/engine';
import mysql from 'mysql2/promise';
import type { SqlConnectionConfig } from './config.js';
import { CredentialsRefused, type Driver, type Outcome, type Session, StatementError } from './session.js';
import type { Statement } from './statements.js';
import { jsonReady } from './values.js';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'POOL_CLOSED',
]);

/** Refusals of the statement itself (no such table or column, syntax, privileges): every row would fail alike. */
const EVERY_ROW_CODES = new Set([
  'ER_NO_SUCH_TABLE',
  'ER_BAD_FIELD_ERROR',
  'ER_PARSE_ERROR',
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_COLUMNACCESS_DENIED_ERROR',
]);

const TRANSIENT_CODES = new Set([
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ETIMEDOUT',
  'ER_QUERY_TIMEOUT',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
]);

/**
 * A mysql2 error as the SQL port reports it: a fatal error (the connection is gone), a refused or
 * dropped connection, an access refusal, timeouts and deadlocks count against the connection and
 * are retried; anything else
 * is the statement's (a constraint, no such table), with MySQL's error name.
 */
export function mysqlFailure(err: unknown): SqlFailure {
  const e = err as { code?: string; message?: string; fatal?: boolean };
  const message = e.message ?? String(err);
  const code = e.code ?? '';
  // timeouts, and the refusals that roll the whole transaction back and are worth a retry
  if (TRANSIENT_CODES.has(code) || /timeout/i.test(message)) return new SqlFailure(`MySQL: ${message}`, 'timeout');
  if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR')
    return new CredentialsRefused(`MySQL: ${message}`);
  if (e.fatal || CONNECTION_CODES.has(code) || !code) return new SqlFailure(`MySQL: ${message}`, 'connection');
  return new StatementError(message, code, EVERY_ROW_CODES.has(code));
}

/** A pooled MySQL/MariaDB connection (mysql2), with prepared statements and a connect and a query timeout. */
export function mysqlDriver(config: SqlConnectionConfig, timeoutMs: number): Driver {
  const pool = mysql.createPool({
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    ...(config.password !== undefined ? { password: config.password } : {}),
    ...(config.tls === 'off' ? {} : { ssl: { rejectUnauthorized: config.tls === 'verify' } }),
    connectionLimit: 8,
    connectTimeout: 10_000,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: false,
    maxPreparedStatements: 64,
    idleTimeout: 10_000,
  });
  pool.pool.on('error', () => {});
  // strict for every table: a value a column cannot take (a NULL in a NOT NULL column of a multi-row
  // insert, a string too long) is refused, and its row fails alone, instead of being changed quietly
  pool.pool.on('connection', (conn) => {
    conn.query("SET SESSION sql_mode = TRIM(BOTH ',' FROM CONCAT(@@SESSION.sql_mode, ',STRICT_ALL_TABLES'))");
  });
  const run = async (conn: mysql.Pool | mysql.PoolConnection, statement: Statement): Promise<Outcome> => {
    try {
      const sql = { sql: statement.text, timeout: timeoutMs };
      // statements with values are prepared and bound by the server; control statements are sent as text
      const [result] = statement.values.length ? await conn.execute(sql, statement.values) : await conn.query(sql);
      if (Array.isArray(result)) return { rows: (result as Record<string, unknown>[]).map(jsonReady), affected: 0 };
      return { rows: [], affected: (result as mysql.ResultSetHeader).affectedRows };
    } catch (err) {
      throw mysqlFailure(err);
    }
  };
  return {
    dialect: 'mysql',
    statementAtomic: true,
    query: (statement) => run(pool, statement),
    async transaction(body) {
      let conn: mysql.PoolConnection;
      try {
        conn = await pool.getConnection();
      } catch (err) {
        throw mysqlFailure(err);
      }
      let broken = false;
      try {
        const session: Session = { run: (s) => run(conn, s) };
        await session.run({ text: 'START TRANSACTION', values: [] });
        const value = await body(session);
        await session.run({ text: 'COMMIT', values: [] });
        return value;
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw err;
      } finally {
        if (broken) conn.destroy();
        else conn.release();
      }
    },
    close: () => pool.end(),
  };
}
