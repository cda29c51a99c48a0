import { sqlWrite as sqlWriteType } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import type { Item } from '../runtime.js';
import { columnsFor, writeRequest } from './sql-write.js';

const item = (data: Record<string, unknown>): Item => ({
  seq: 0,
  key: 'k',
  data,
  source: data,
  batchNo: 1,
  attempts: 0,
  hops: [],
});
const params = (p: Record<string, unknown>) => sqlWriteType.params.parse({ connection: 'db', table: 't', ...p });

// the SQL itself is the server's (server/src/connectors/sql/), tested there against real databases
describe('sql-write: what a group of records becomes', () => {
  it('writes every field the records have, keys first, never the counter; fields that are not SQL names apart', () => {
    const items = [item({ name: 'a', id: 1 }), item({ id: 2, qty: 3, 'bad name': 1, writes: 9 })];
    expect(columnsFor(params({ keyColumns: ['id'], counterColumn: 'writes' }), items)).toEqual({
      columns: ['id', 'name', 'qty'],
      refused: ['bad name'],
    });
  });

  it('writes the listed columns only (with the keys), and binds each record’s values in their order', () => {
    const p = params({ keyColumns: ['id'], columns: ['qty', 'name'] });
    const items = [item({ id: 1, name: 'a', other: true }), item({ id: 2, qty: 5, name: { nested: 1 } })];
    const { columns } = columnsFor(p, items);
    expect(columns).toEqual(['id', 'qty', 'name']);
    expect(writeRequest(p, columns, items)).toEqual({
      table: 't',
      mode: 'upsert',
      keyColumns: ['id'],
      columns: ['id', 'qty', 'name'],
      rows: [
        [1, null, 'a'],
        [2, 5, '{"nested":1}'],
      ],
    });
  });
});
