import { SqlFailure, type SqlRowResult, type SqlValue, type SqlWriteRequest } from '@sluice/engine';
import { type Dialect, insertStatement, type Statement, updateStatement } from './statements.js';

/** What a statement did: the rows it returned and how many it changed. */
export interface Outcome {
  rows: Record<string, unknown>[];
  affected: number;
}

/** One database connection inside a transaction; a failure rejects with an `SqlFailure`. */
export interface Session {
  run(statement: Statement): Promise<Outcome>;
}

/** A connection's driver: reads on any pooled connection, writes inside a transaction. */
export interface Driver {
  readonly dialect: Dialect;
  /**
   * Whether a statement the database refuses leaves the transaction usable with its own changes
   * undone (InnoDB rolls back the statement). Then no savepoint is needed around a statement whose
   * rows may be tried again alone; PostgreSQL aborts the whole transaction instead, so it needs them.
   * (A deadlock, which undoes the transaction, is not a refusal of the statement: the group fails.)
   */
  readonly statementAtomic: boolean;
  query(statement: Statement): Promise<Outcome>;
  transaction<T>(body: (session: Session) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Most values bound in one statement (both databases take at most 65,535 placeholders). */
const MAX_BOUND = 60_000;

const plain = (text: string): Statement => ({ text, values: [] });

/** Sets, releases and rolls back to a savepoint, where the database needs one (`statementAtomic`). */
function savepoints(driver: Driver, session: Session, name: string) {
  const run = (text: string) => (driver.statementAtomic ? undefined : session.run(plain(text)));
  return {
    set: () => run(`SAVEPOINT ${name}`),
    release: () => run(`RELEASE SAVEPOINT ${name}`),
    rollback: () => run(`ROLLBACK TO SAVEPOINT ${name}`),
  };
}

/**
 * Writes a group of rows in one transaction with a result per row. Inserts and upserts go as few
 * multi-row statements as the placeholder limit allows, each under a savepoint (on PostgreSQL; MySQL's
 * InnoDB undoes a refused statement by itself); one the database refuses is rolled back and its rows
 * are written one at a time, each under its own savepoint, so a row that violates a constraint fails
 * alone with the database's message and the others commit. Updates go row by row (each names its own key). A lost connection or a
 * timeout rejects the whole group: nothing of it is committed.
 */
export async function writeRows(driver: Driver, request: SqlWriteRequest): Promise<SqlRowResult[]> {
  const { dialect } = driver;
  const results: SqlRowResult[] = new Array(request.rows.length);
  const one = async (session: Session, row: readonly SqlValue[], i: number): Promise<void> => {
    const point = savepoints(driver, session, 'sluice_row');
    await point.set();
    try {
      const statement =
        request.mode === 'update' ? updateStatement(dialect, request, row) : insertStatement(dialect, request, [row]);
      const done = await session.run(statement);
      results[i] =
        request.mode === 'update' && done.affected === 0
          ? { ok: false, message: `no row of ${request.table} has this key`, code: 'sql_no_row' }
          : { ok: true };
      await point.release();
    } catch (err) {
      if (!(err instanceof SqlFailure) || err.code !== 'statement') throw err;
      await point.rollback();
      results[i] = { ok: false, message: err.message, ...codeOf(err) };
    }
  };
  await driver.transaction(async (session) => {
    if (request.mode === 'update') {
      for (const [i, row] of request.rows.entries()) await one(session, row, i);
      return;
    }
    const per = Math.max(1, Math.floor(MAX_BOUND / Math.max(1, request.columns.length)));
    for (let start = 0; start < request.rows.length; start += per) {
      const rows = request.rows.slice(start, start + per);
      if (rows.length > 1) {
        const point = savepoints(driver, session, 'sluice_group');
        await point.set();
        try {
          await session.run(insertStatement(dialect, request, rows));
          await point.release();
          for (let i = 0; i < rows.length; i++) results[start + i] = { ok: true };
          continue;
        } catch (err) {
          if (!(err instanceof SqlFailure) || err.code !== 'statement') throw err;
          await point.rollback();
          if (err instanceof StatementError && err.everyRow) {
            for (let i = 0; i < rows.length; i++)
              results[start + i] = { ok: false, message: err.message, ...codeOf(err) };
            continue;
          }
        }
      }
      for (const [i, row] of rows.entries()) await one(session, row, start + i);
    }
  });
  return results;
}

/** The database refused to let the connection's user in: its user or password is wrong. */
export class CredentialsRefused extends SqlFailure {
  constructor(message: string) {
    super(message, 'connection');
  }
}

/** A statement the database refused, with the database's own code (SQLSTATE, or MySQL's name). */
export class StatementError extends SqlFailure {
  constructor(
    message: string,
    readonly dbCode?: string,
    /** The statement fails whatever the row (no such table or column): no row is tried alone. */
    readonly everyRow = false,
  ) {
    super(message, 'statement');
  }
}

function codeOf(err: SqlFailure): { code?: string } {
  return err instanceof StatementError && err.dbCode ? { code: err.dbCode } : {};
}
