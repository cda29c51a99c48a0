import pg from 'pg';

/**
 * Plain SQL through the pool for the run stores, with 64-bit integers read as numbers. node-postgres
 * gives `bigint` (ids, epoch ms, counts) and `numeric` (a SUM of bigints) as strings, since they may
 * pass 2^53; Sluice's never do, and both stores speak numbers at the port. The parsers are set per
 * query, not on the driver's global table, which other code in the process may rely on.
 */

/**
 * The database's clock in epoch ms, as SQL: every process sharing the database judges leases, and
 * stamps runs, by this one clock rather than by its own (the hosts' clocks may disagree).
 */
export const DB_NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

const INT8 = 20;
const NUMERIC = 1700;

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8 || oid === NUMERIC) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** Something a query can be sent to: the pool, or one of its clients inside a transaction. */
export type Queryable = pg.Pool | pg.PoolClient;

/** The rows of one statement. */
export async function rows<T>(on: Queryable, text: string, values: unknown[] = []): Promise<T[]> {
  const result = await on.query<T & pg.QueryResultRow>({ text, values, types });
  return result.rows;
}

/** The first row of one statement, if any. */
export async function row<T>(on: Queryable, text: string, values: unknown[] = []): Promise<T | undefined> {
  return (await rows<T>(on, text, values))[0];
}

/** How many rows one statement changed. */
export async function changes(on: Queryable, text: string, values: unknown[] = []): Promise<number> {
  const result = await on.query({ text, values, types });
  return result.rowCount ?? 0;
}

/** Runs `body` in a transaction on one client: committed when it returns, rolled back when it throws. */
export async function transaction<T>(pool: pg.Pool, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await body(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollback) {
      // the connection itself failed: the pool must not hand it out again
      broken = rollback instanceof Error ? rollback : new Error(String(rollback));
    }
    throw err;
  } finally {
    client.release(broken);
  }
}
