import type { RecordError } from '@sluice/shared';
import { Cancelled, sleep } from '../clock.js';
import { type RequestOrigin, SqlFailure, type SqlPort, type SqlValue } from '../ports.js';
import { backoffMs, type RetryPolicy } from '../retry.js';
import type { CallerContext } from './http.js';

export type SqlCallResult<T> =
  | { ok: true; value: T; attempts: number }
  | { ok: false; error: RecordError; attempts: number };

/** What a SQL call is made for: the run, the node and, for records cut into batches, their batch. */
export function sqlOrigin(ctx: CallerContext, batchNo = 0): RequestOrigin {
  return batchNo > 0 ? { runId: ctx.runId, nodeId: ctx.node.id, batchNo } : { runId: ctx.runId, nodeId: ctx.node.id };
}

/** The server's SQL port, or an error naming the node when this server gives flows none. */
export function sqlPort(ctx: CallerContext): SqlPort {
  const sql = ctx.connectors.sql;
  if (!sql) throw new Error(`node "${ctx.node.id}": this server gives flows no SQL access`);
  return sql;
}

/**
 * Runs one SQL call through the connection's circuit breaker and limits, like an HTTP request: a
 * lost connection or a timeout counts against the breaker and is tried again after a backoff (while
 * the breaker is open the call waits, spending no attempt); a statement the database refuses as a
 * whole is final at once and does not count against the breaker (the database answered).
 */
export async function callSql<T>(
  ctx: CallerContext,
  connection: string,
  policy: RetryPolicy,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<SqlCallResult<T>> {
  const breaker = ctx.breaker(connection);
  let attempt = 0;
  for (;;) {
    attempt++;
    let waited = false;
    const probe = await breaker.acquire(ctx.signal, (until) => {
      waited = true;
      ctx.waiting({ kind: 'breaker', until: until ?? ctx.clock.now(), connection });
    });
    if (waited) ctx.waiting(null);
    if (ctx.signal.aborted) {
      if (probe) breaker.abandon();
      throw new Cancelled();
    }
    let error: RecordError;
    try {
      const permit = await ctx.permit(connection);
      try {
        const value = await call(ctx.signal);
        breaker.report(true);
        return { ok: true, value, attempts: attempt };
      } finally {
        permit.release();
      }
    } catch (err) {
      if (err instanceof Cancelled || ctx.signal.aborted) {
        if (probe) breaker.abandon();
        throw new Cancelled();
      }
      const failure = err instanceof SqlFailure ? err : new SqlFailure((err as Error).message, 'connection');
      error = { message: failure.message, code: `sql_${failure.code}` };
      if (failure.code === 'statement') {
        breaker.report(true);
        return { ok: false, error, attempts: attempt };
      }
      breaker.report(false);
    }
    if (breaker.state !== 'closed') attempt--;
    if (attempt >= policy.maxAttempts) {
      const message = `${error.message} (gave up after ${attempt} attempt${attempt === 1 ? '' : 's'})`;
      return { ok: false, error: { ...error, message }, attempts: attempt };
    }
    const ms = backoffMs(policy, attempt, ctx.random);
    if (ms >= 1000) ctx.waiting({ kind: 'retry', until: ctx.clock.now() + ms });
    try {
      await sleep(ctx.clock, ms, ctx.signal);
    } finally {
      if (ms >= 1000) ctx.waiting(null);
    }
  }
}

/** A record's value as bound into a statement: objects and arrays as JSON text, absent as null. */
export function toSqlValue(value: unknown): SqlValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  return JSON.stringify(value);
}
