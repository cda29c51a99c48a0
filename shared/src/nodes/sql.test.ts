import { describe, expect, it } from 'vitest';
import { validateFlow } from '../validate.js';
import { isSqlIdentifier, sqlLookup, sqlSource, sqlWrite } from './sql.js';

/** The problems of the node in a flow manual → this node, each as "path: message". */
function problems(type: string, params: Record<string, unknown>): string[] {
  const result = validateFlow({
    format: 2,
    name: 'sql',
    nodes: [
      { id: 'start', type: 'manual' },
      { id: 'n', type, params },
    ],
    edges: [{ source: 'start', target: 'n' }],
  });
  return result.problems.filter((p) => p.nodeId === 'n').map((p) => p.message);
}

describe('SQL node parameters', () => {
  it('hold table and column names to plain identifiers, naming the field', () => {
    expect(isSqlIdentifier('order_id')).toBe(true);
    for (const bad of ['order id', '1a', 'a-b', 'a"b', 'a;b', '', 'é']) expect(isSqlIdentifier(bad), bad).toBe(false);
    expect(problems('sql-source', { connection: 'db', table: 'orders; DROP TABLE x', keyColumn: 'id' })).toEqual([
      expect.stringMatching(/^nodes\[1\]\.params\.table: must be a plain SQL table name/),
    ]);
    expect(problems('sql-write', { connection: 'db', table: 'orders', keyColumns: ['id', 'x y'] })).toEqual([
      expect.stringMatching(/^nodes\[1\]\.params\.keyColumns\[1\]: must be a plain SQL name/),
    ]);
    expect(problems('sql-lookup', { connection: 'db', table: 'c', keyColumn: 'code`', field: 'customer' })).toEqual([
      expect.stringMatching(/^nodes\[1\]\.params\.keyColumn: must be a plain SQL name/),
    ]);
  });

  it('want a table or one SELECT, and keys for upsert and update', () => {
    expect(problems('sql-source', { connection: 'db', keyColumn: 'id' })).toEqual([
      expect.stringContaining('params.table: give a table or a SELECT'),
    ]);
    expect(problems('sql-source', { connection: 'db', query: 'DELETE FROM t', keyColumn: 'id' })).toEqual([
      expect.stringContaining('params.query: must be a SELECT'),
    ]);
    expect(problems('sql-source', { connection: 'db', query: 'SELECT 1; DROP TABLE t', keyColumn: 'id' })).toEqual([
      expect.stringContaining('params.query: must be one statement'),
    ]);
    expect(problems('sql-write', { connection: 'db', table: 't' })).toEqual([
      expect.stringContaining('params.keyColumns: required for upsert'),
    ]);
    expect(problems('sql-write', { connection: 'db', table: 't', mode: 'insert', counterColumn: 'n' })).toEqual([
      expect.stringContaining('params.counterColumn: only for upsert and update'),
    ]);
  });

  it('fill defaults: pages of 1,000, upsert in groups of 500, lookups that pass misses on', () => {
    expect(sqlSource.params.parse({ connection: 'db', table: 't', keyColumn: 'id' })).toMatchObject({
      pageSize: 1000,
      columns: [],
    });
    expect(sqlWrite.params.parse({ connection: 'db', table: 't', keyColumns: ['id'] })).toMatchObject({
      mode: 'upsert',
      batchSize: 500,
    });
    expect(sqlLookup.params.parse({ connection: 'db', table: 't', keyColumn: 'id', field: 'f' })).toMatchObject({
      onMissing: 'pass',
    });
  });
});
