import type { RecordError } from '@sluice/shared';
import type { SqlValue } from '../ports.js';
import { readPath } from '../record-key.js';
import type { Item, NodeFactory, WriteContext } from '../runtime.js';
import { callSql, sqlOrigin, sqlPort, toSqlValue } from './sql.js';

/** Most keys bound in one `IN (…)`; a larger group is looked up in several statements. */
export const LOOKUP_CHUNK = 1000;

/** The text a key is matched by: drivers give numbers, big integers as text, so both sides compare as text. */
function matchText(value: unknown): string | undefined {
  const v = toSqlValue(value);
  return v === null ? undefined : String(v);
}

/**
 * Enriches each group of records it receives with one `SELECT … WHERE key IN (…)` (per 1,000
 * distinct keys): the first matching row is merged into the record, at `into` or onto it. A record
 * whose field is empty or has no match passes on (null at `into`) or fails, as configured; a lookup
 * that fails after its retries fails the group's records with the reason.
 */
export const sqlLookup: NodeFactory<'sql-lookup', WriteContext> = (ctx, params) => {
  const find = async (
    keys: SqlValue[],
    batchNo: number,
  ): Promise<Map<string, Record<string, unknown>> | RecordError> => {
    const sql = sqlPort(ctx);
    const found = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < keys.length; i += LOOKUP_CHUNK) {
      const request = {
        table: params.table,
        keyColumn: params.keyColumn,
        columns: params.columns.length ? [...new Set([params.keyColumn, ...params.columns])] : [],
        keys: keys.slice(i, i + LOOKUP_CHUNK),
      };
      const result = await callSql(ctx, params.connection, params.retry, (signal) =>
        sql.lookup(params.connection, request, signal, sqlOrigin(ctx, batchNo)),
      );
      if (!result.ok) return result.error;
      for (const row of result.value) {
        const k = matchText(row[params.keyColumn]);
        if (k !== undefined && !found.has(k)) found.set(k, row);
      }
    }
    return found;
  };

  const merged = (item: Item, row: Record<string, unknown> | undefined): Record<string, unknown> => {
    let value: Record<string, unknown> | null = row ?? null;
    if (row && params.columns.length && !params.columns.includes(params.keyColumn)) {
      const { [params.keyColumn]: _, ...rest } = row;
      value = rest;
    }
    if (params.into) return { ...item.data, [params.into]: value };
    return value ? { ...item.data, ...value } : item.data;
  };

  return {
    async process(items) {
      if (items.length === 0) return;
      await ctx.boundary();
      const keys = new Map<string, SqlValue>();
      for (const item of items) {
        const value = readPath(item.data, params.field);
        const text = matchText(value);
        if (text !== undefined && typeof value !== 'object') keys.set(text, toSqlValue(value));
      }
      const found = keys.size
        ? await find([...keys.values()], items[0]?.batchNo ?? 0)
        : new Map<string, Record<string, unknown>>();
      let out: Item[] = [];
      for (const item of items) {
        const text = matchText(readPath(item.data, params.field));
        let error: RecordError | undefined;
        let row: Record<string, unknown> | undefined;
        if (!(found instanceof Map)) error = found;
        else {
          row = text === undefined ? undefined : found.get(text);
          if (!row && params.onMissing === 'fail')
            error = {
              message:
                text === undefined
                  ? `the record has no value at "${params.field}" to look up`
                  : `no row of ${params.table} has ${params.keyColumn} = ${text}`,
              code: 'sql_no_match',
            };
        }
        if (error) {
          if (out.length) await ctx.emit('out', out);
          out = [];
          await ctx.fail(item, error, 1);
          continue;
        }
        item.data = merged(item, row);
        out.push(item);
      }
      if (out.length) await ctx.emit('out', out);
    },
  };
};
