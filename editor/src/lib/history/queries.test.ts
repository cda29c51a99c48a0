import { createApiClient } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { localInputToIso, recordsQuery, refreshLimit, runsQuery } from './queries';

// the addresses the client makes of these queries, so the tests read as the requests sent
const client = createApiClient();

describe('runsQuery', () => {
  it('leaves out empty filters and the first page cursor', () => {
    const query = runsQuery('orders', { status: '', trigger: '', from: '', to: '' }, 100, null);
    expect(client.url('listRuns', { query })).toBe('/api/runs?flowId=orders&limit=100');
  });

  it('passes every filter and the cursor, encoded', () => {
    const query = runsQuery(
      'my flow',
      { status: 'failed', trigger: 'schedule', from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T00:00:00.000Z' },
      50,
      '1234',
    );
    expect(client.url('listRuns', { query })).toBe(
      '/api/runs?flowId=my%20flow&status=failed&trigger=schedule&from=2026-01-01T00%3A00%3A00.000Z' +
        '&to=2026-01-02T00%3A00%3A00.000Z&limit=50&cursor=1234',
    );
  });
});

describe('recordsQuery', () => {
  it('filters by status, node and exact key', () => {
    const all = recordsQuery({ status: '', node: '', key: '' }, 200, null);
    expect(client.url('listRecords', { params: { id: '42' }, query: all })).toBe('/api/runs/42/records?limit=200');
    const some = recordsQuery({ status: 'failed', node: 'post', key: 'a&b' }, 200, '17');
    expect(client.url('listRecords', { params: { id: '42' }, query: some })).toBe(
      '/api/runs/42/records?status=failed&node=post&key=a%26b&limit=200&cursor=17',
    );
  });
});

describe('localInputToIso', () => {
  it('reads a datetime-local value as local time', () => {
    expect(localInputToIso('2026-05-01T14:03')).toBe(new Date(2026, 4, 1, 14, 3).toISOString());
  });

  it('gives nothing for an empty or broken value', () => {
    expect(localInputToIso('')).toBe('');
    expect(localInputToIso('not a date')).toBe('');
  });
});

describe('refreshLimit', () => {
  it('asks for whole pages, at least one and at most the limit', () => {
    expect(refreshLimit(0, 100, 500)).toBe(100);
    expect(refreshLimit(100, 100, 500)).toBe(100);
    expect(refreshLimit(101, 100, 500)).toBe(200);
    expect(refreshLimit(40_000, 100, 500)).toBe(500);
  });
});
