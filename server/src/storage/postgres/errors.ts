/**
 * What a PostgreSQL error was, read through drizzle's wrapping (it reports a failed query as its own
 * error with the driver's as the cause), so stores can turn a clash into a domain error and let no
 * database error code leave them.
 */

/** PostgreSQL's SQLSTATE codes the stores act on. */
export const UNIQUE_VIOLATION = '23505';
export const FOREIGN_KEY_VIOLATION = '23503';

interface PgErrorFields {
  code?: string;
  constraint?: string;
  cause?: unknown;
}

/** The driver's error inside `err` (itself, or its cause), if it is one. */
function driverError(err: unknown): PgErrorFields | undefined {
  let e = err as PgErrorFields | undefined;
  for (let depth = 0; e && depth < 3; depth++) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e;
    e = e.cause as PgErrorFields | undefined;
  }
  return undefined;
}

/** The SQLSTATE of a failed statement, if `err` is PostgreSQL's. */
export function pgErrorCode(err: unknown): string | undefined {
  return driverError(err)?.code;
}

/** The constraint (or unique index) a violation names, if any. */
export function violatedConstraint(err: unknown): string | undefined {
  return driverError(err)?.constraint;
}
