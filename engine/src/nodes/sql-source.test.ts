import { sqlSource as sqlSourceType } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { pageRequest } from './sql-source.js';

const params = (p: Record<string, unknown>) =>
  sqlSourceType.params.parse({ connection: 'db', keyColumn: 'id', pageSize: 50, ...p });

// the pages themselves are read by the server's SQL port, tested against real databases there
describe('sql-source: the page it asks for', () => {
  it('starts after the last key of the page before; the first page has none', () => {
    expect(pageRequest(params({ table: 'orders' }), null, undefined)).toEqual({
      table: 'orders',
      columns: [],
      keyColumn: 'id',
      pageSize: 50,
    });
    expect(pageRequest(params({ table: 'orders', columns: ['id', 'total'] }), 120, undefined)).toMatchObject({
      columns: ['id', 'total'],
      after: 120,
    });
  });

  it('adds the watermark of an incremental source once there is one', () => {
    const p = params({ query: 'SELECT * FROM t', incremental: { column: 'updated_at' } });
    expect(pageRequest(p, null, undefined)).not.toHaveProperty('watermark');
    expect(pageRequest(p, 'k9', '2026-01-01 00:00:00+00')).toEqual({
      query: 'SELECT * FROM t',
      columns: [],
      keyColumn: 'id',
      pageSize: 50,
      after: 'k9',
      watermark: { column: 'updated_at', after: '2026-01-01 00:00:00+00' },
    });
  });
});
