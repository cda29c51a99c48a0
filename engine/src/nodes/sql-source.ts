import type { NodeParams } from '@sluice/shared';
import { laterWatermark, type SqlReadRequest, type SqlValue, type WatermarkState } from '../ports.js';
import type { NodeFactory, SourceContext } from '../runtime.js';
import { SourceError } from './http-source.js';
import { callSql, sqlOrigin, sqlPort, toSqlValue } from './sql.js';

type Params = NodeParams<'sql-source'>;

/** Where a page starts: after the key of the last row of the page before (null: the first page). */
export interface SqlCursor {
  after: SqlValue;
}

const PAGE_RETRY = { maxAttempts: 5, initialDelayMs: 500, maxDelayMs: 30_000 };

/** The read of the page after `after`, as the port takes it. */
export function pageRequest(params: Params, after: SqlValue, watermarkFrom: string | undefined): SqlReadRequest {
  const request: SqlReadRequest = {
    columns: params.columns,
    keyColumn: params.keyColumn,
    pageSize: params.pageSize,
  };
  if (params.table !== undefined) request.table = params.table;
  if (params.query !== undefined) request.query = params.query;
  if (after !== null) request.after = after;
  if (params.incremental && watermarkFrom !== undefined)
    request.watermark = { column: params.incremental.column, after: watermarkFrom };
  return request;
}

/**
 * Reads a table or a SELECT by keyset: each page is the rows whose key is greater than the last key
 * of the page before, in key order, so a page costs an index range whatever the table's size (no
 * OFFSET). The next page is read while this one is processed downstream, never further ahead. Each
 * page's cursor is the key it starts after, so a resumed run re-reads the page it was on. With
 * `incremental`, only rows whose watermark column is past the stored watermark are read, and the
 * largest value read becomes the next run's (as the HTTP source does).
 */
export const sqlSource: NodeFactory<'sql-source', SourceContext> = (ctx, params, restored) => {
  const incremental = params.incremental;
  const state: WatermarkState = {};
  if (incremental) {
    const seeded = (restored ?? {}) as WatermarkState;
    const from = seeded.watermarkFrom ?? incremental.initial;
    if (from !== undefined) state.watermarkFrom = from;
    const max = laterWatermark(from, seeded.watermark);
    if (max !== undefined) state.watermark = max;
  }
  const track = (rows: Record<string, unknown>[]): void => {
    if (!incremental) return;
    for (const row of rows) {
      const value = row[incremental.column];
      if (typeof value === 'string' && value !== '') state.watermark = laterWatermark(state.watermark, value);
      else if (typeof value === 'number' && Number.isFinite(value))
        state.watermark = laterWatermark(state.watermark, String(value));
    }
  };
  const readPage = async (after: SqlValue): Promise<Record<string, unknown>[]> => {
    const sql = sqlPort(ctx);
    const request = pageRequest(params, after, state.watermarkFrom);
    const result = await callSql(ctx, params.connection, PAGE_RETRY, (signal) =>
      sql.read(params.connection, request, signal, sqlOrigin(ctx)),
    );
    if (!result.ok)
      throw new SourceError(`source "${ctx.node.id}" could not read ${describe(params)}: ${result.error.message}`);
    return result.value;
  };
  const keyOf = (row: Record<string, unknown>): SqlValue => {
    const key = toSqlValue(row[params.keyColumn]);
    if (key === null)
      throw new SourceError(
        `source "${ctx.node.id}": a row of ${describe(params)} has no value in its key column "${params.keyColumn}" (it must be unique and not null)`,
      );
    return key;
  };

  return {
    ...(incremental ? { state: () => state } : {}),
    async process(activations) {
      for (const _ of activations) {
        const stored = ctx.startCursor() as SqlCursor | undefined;
        let after: SqlValue = stored?.after ?? null;
        let pending: Promise<Record<string, unknown>[]> | undefined = readPage(after);
        while (pending) {
          const rows: Record<string, unknown>[] = await pending;
          const cursor: SqlCursor = { after };
          pending = undefined;
          if (rows.length === params.pageSize) {
            after = keyOf(rows[rows.length - 1] as Record<string, unknown>);
            pending = readPage(after);
            pending.catch(() => {}); // awaited on the next turn; do not report it unhandled meanwhile
          }
          if (rows.length) {
            track(rows);
            await ctx.emitPage(rows, params.keyField ?? params.keyColumn, cursor);
          }
        }
      }
    },
  };
};

function describe(params: Params): string {
  return params.table !== undefined ? `table ${params.table}` : 'its SELECT';
}
