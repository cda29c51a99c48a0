import { isSqlIdentifier, type NodeParams, type RecordError } from '@sluice/shared';
import type { SqlRowResult, SqlWriteRequest } from '../ports.js';
import type { Item, NodeFactory, WriteContext } from '../runtime.js';
import { callSql, sqlOrigin, sqlPort, toSqlValue } from './sql.js';

type Params = NodeParams<'sql-write'>;

type Outcome = { ok: true; attempts: number } | { ok: false; error: RecordError; attempts: number };

/**
 * The columns a group of records is written to: the listed ones (with the key columns), else every
 * field any of the records has, in first-seen order. The counter column is the database's to set.
 * Fields that are not plain SQL names are returned apart: they are never written into SQL text.
 */
export function columnsFor(params: Params, items: readonly Item[]): { columns: string[]; refused: string[] } {
  const listed = params.columns.length > 0;
  const names = new Set<string>(listed ? [...params.keyColumns, ...params.columns] : params.keyColumns);
  if (!listed) for (const item of items) for (const field of Object.keys(item.data)) names.add(field);
  if (params.counterColumn) names.delete(params.counterColumn);
  const columns: string[] = [];
  const refused: string[] = [];
  for (const name of names) (isSqlIdentifier(name) ? columns : refused).push(name);
  return { columns, refused };
}

/** The write of a group of records, as the port takes it. */
export function writeRequest(params: Params, columns: string[], items: readonly Item[]): SqlWriteRequest {
  return {
    table: params.table,
    mode: params.mode,
    keyColumns: params.keyColumns,
    columns,
    ...(params.counterColumn ? { counterColumn: params.counterColumn } : {}),
    rows: items.map((item) => columns.map((c) => toSqlValue(item.data[c]))),
  };
}

/**
 * Writes records as rows, up to `batchSize` in one transaction. The database's verdict is per row:
 * a row it refuses (a NOT NULL, a unique or a check constraint) fails alone with the database's
 * message and the rest of the group commits. A lost connection or a timeout is retried for the
 * whole group (nothing of it was committed); past the attempts the group's records fail.
 */
export const sqlWrite: NodeFactory<'sql-write', WriteContext> = (ctx, params) => {
  const writeGroup = async (items: Item[]): Promise<Outcome[]> => {
    const { columns, refused } = columnsFor(params, items);
    const outcomes: Outcome[] = new Array(items.length);
    const writable: Item[] = [];
    const at: number[] = [];
    for (const [i, item] of items.entries()) {
      const bad = refused.find((f) => f in item.data);
      if (bad === undefined) {
        writable.push(item);
        at.push(i);
        continue;
      }
      outcomes[i] = {
        ok: false,
        attempts: 0,
        error: {
          message: `field "${bad}" is not a plain SQL column name (letters, digits and _); list the columns to write`,
          code: 'sql_column_name',
        },
      };
    }
    if (writable.length) {
      const sql = sqlPort(ctx);
      const request = writeRequest(params, columns, writable);
      const result = await callSql(ctx, params.connection, params.retry, (signal) =>
        sql.write(params.connection, request, signal, sqlOrigin(ctx, items[0]?.batchNo)),
      );
      for (const [j, i] of at.entries()) {
        if (!result.ok) {
          outcomes[i] = result;
          continue;
        }
        const row = result.value[j] as SqlRowResult | undefined;
        outcomes[i] = row?.ok
          ? { ok: true, attempts: result.attempts }
          : {
              ok: false,
              attempts: result.attempts,
              error: {
                message: row?.message ?? 'the database reported nothing for this row',
                code: row?.code ?? 'sql_row',
              },
            };
      }
    }
    return outcomes;
  };

  return {
    async process(items) {
      for (let start = 0; start < items.length; start += params.batchSize) {
        await ctx.boundary();
        const group = items.slice(start, start + params.batchSize);
        const outcomes = await writeGroup(group);
        let ok: Item[] = [];
        for (const [i, item] of group.entries()) {
          const outcome = outcomes[i] as Outcome;
          item.attempts = outcome.attempts;
          if (outcome.ok) {
            ok.push(item);
            continue;
          }
          if (ok.length) await ctx.emit('out', ok);
          ok = [];
          await ctx.fail(item, outcome.error, outcome.attempts);
        }
        if (ok.length) await ctx.emit('out', ok);
      }
    },
  };
};
