import { entitySource } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { startRun } from '../run.js';
import { fakeConnectors, json, MemoryRunStore, SimulatedClock, sourceFlow, testRuntime } from '../testing/index.js';
import { entitySourceParams } from './entity-source.js';

describe('entity source', () => {
  it('builds the HTTP source parameters of the unified API', () => {
    expect(
      entitySourceParams(
        entitySource.params.parse({
          entity: 'assets',
          filters: { updatedAfter: '2026-01-02T00:00:00Z', sort: '-updatedAt' },
        }),
      ),
    ).toMatchObject({
      connection: 'maintenance-sandbox',
      url: '/api/eam/assets',
      method: 'GET',
      query: { 'filter[updatedAt:gt]': '2026-01-02T00:00:00Z', sort: '-updatedAt' },
      recordsPath: 'data',
      keyField: 'key',
      pageSize: 100,
      pageSizeParam: 'limit',
      pagination: { type: 'token', tokenPath: 'meta.continuation_token', tokenParam: 'continuation_token' },
    });
    const acme = entitySource.params.parse({ entity: 'work-orders', connection: 'acme', pageSize: 7 });
    expect(entitySourceParams(acme)).toMatchObject({
      connection: 'acme',
      url: '/api/eam/work-orders',
      query: {},
      pageSize: 7,
    });
  });

  it('reads every page through the HTTP source, on the connection it is given', async () => {
    const all = Array.from({ length: 25 }, (_, i) => ({ key: `PO-${i}`, updatedAt: '2026-01-01T00:00:00Z' }));
    const flow = sourceFlow('entity-source', {
      connection: 'unified',
      entity: 'purchase-orders',
      pageSize: 10,
      filters: { updatedAfter: '2026-01-01T00:00:00Z' },
    });
    const connectors = fakeConnectors(
      (req) => {
        const url = new URL(req.url);
        const from = Number(url.searchParams.get('continuation_token') ?? 0);
        const limit = Number(url.searchParams.get('limit'));
        const to = Math.min(all.length, from + limit);
        return json(200, {
          data: all.slice(from, to),
          meta: { continuation_token: to < all.length ? String(to) : null },
        });
      },
      {
        unified: { name: 'unified', baseUrl: 'https://api.unified.test/v1', headers: { authorization: 'Bearer real' } },
      },
    );
    const clock = new SimulatedClock();
    const store = new MemoryRunStore();
    const done = await clock.run(startRun({ runId: 'r', clock, runtime: testRuntime, store, connectors, flow }).done);
    expect(done.status).toBe('succeeded');
    expect(store.collected.map((c) => c.key)).toEqual(all.map((r) => r.key));
    const pages = connectors.requests.filter((r) => r.url.includes('/purchase-orders'));
    expect(pages).toHaveLength(3);
    for (const r of pages) {
      expect(r.url).toMatch(/^https:\/\/api\.unified\.test\/v1\/api\/eam\/purchase-orders\?/);
      expect(new URL(r.url).searchParams.get('filter[updatedAt:gt]')).toBe('2026-01-01T00:00:00Z');
      expect(r.headers.authorization).toBe('Bearer real');
    }
  });
});
