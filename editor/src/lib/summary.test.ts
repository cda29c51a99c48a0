import { nodeTypes } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { paramSummary } from './summary';

const summary = (type: string, params: Record<string, unknown>) => paramSummary({ type, params }, nodeTypes.get(type));

describe('paramSummary', () => {
  it('describes batch and delay', () => {
    expect(summary('batch', { size: 50 })).toBe('50 per batch');
    expect(summary('batch', {})).toBe('50 per batch');
    expect(summary('delay', { ms: 200 })).toBe('200 ms between batches');
    expect(summary('delay', { ms: 1500 })).toBe('1.5 s between batches');
    expect(summary('delay', { mode: 'rate', records: 100, intervalMs: 60_000 })).toMatch(/^at most 100 per 1 min/);
  });

  it('shows the connection and url of HTTP nodes', () => {
    expect(summary('http-source', { connection: 'crm', url: '/contacts' })).toBe('crm · /contacts');
    expect(summary('http-source', { url: 'https://api.example.com/items' })).toBe('https://api.example.com/items');
    expect(summary('http-write', { connection: 'erp', url: '/items', method: 'PUT' })).toBe('PUT erp · /items');
    expect(summary('http-write', { connection: 'erp', url: '/items' })).toBe('POST erp · /items');
  });

  it('shows where SQL nodes read, write and look up', () => {
    expect(summary('sql-source', { connection: 'dw', table: 'orders', keyColumn: 'id' })).toBe('dw · orders');
    expect(summary('sql-source', { connection: 'dw', query: 'SELECT * FROM t', keyColumn: 'id' })).toBe(
      'dw · a SELECT',
    );
    expect(summary('sql-write', { connection: 'shop', table: 'orders', keyColumns: ['id'] })).toBe(
      'upsert into shop · orders',
    );
    expect(
      summary('sql-lookup', { connection: 'shop', table: 'customers', keyColumn: 'code', field: 'customer' }),
    ).toBe('customer → customers.code');
  });

  it('keeps what it can when params do not parse', () => {
    expect(summary('http-source', { url: 'relative/path' })).toBe('relative/path');
    expect(summary('batch', { size: 'many' })).toBe('many per batch');
  });

  it('counts map fields and shows conditions', () => {
    expect(summary('map', { fields: [{ name: 'a', expression: 'b' }] })).toBe('1 field');
    expect(summary('map', { fields: [] })).toBe('0 fields');
    expect(summary('filter', { condition: 'status = "open"' })).toBe('status = "open"');
    expect(summary('branch', { condition: 'priority > 2' })).toBe('priority > 2');
  });

  it('describes the shaping nodes', () => {
    expect(summary('split', { field: 'lines' })).toBe('one record per element of lines');
    expect(summary('aggregate', { groupBy: 'site' })).toBe('by site, over each batch');
    expect(summary('aggregate', { scope: 'run' })).toBe('over the whole run');
    expect(summary('dedupe', {})).toBe('first of each record key');
    expect(summary('dedupe', { key: 'email' })).toBe('first of each email');
    expect(summary('code', { code: 'return record' })).toBe('JavaScript per record');
  });

  it('says nothing for unknown types', () => {
    expect(paramSummary({ type: 'mystery', params: {} })).toBeNull();
  });
});
