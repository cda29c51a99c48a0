import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type RunResult, startRun } from '@sluice/engine';
import { chain, flowOf, MemoryRunStore, sourceFlow, validFlow } from '@sluice/engine/testing';
import { type Flow, validateFlow } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectors } from '../connectors.js';
import { nodeRuntime, systemClock } from '../node-runtime.js';
import { REPO_ROOT } from '../paths.js';
import { assetAt, purchaseOrderAt, workOrderAt } from './data.js';
import { SANDBOX_DEFAULTS, type Sandbox, startSandbox } from './index.js';

const TOTAL = 1000;
const SEED = SANDBOX_DEFAULTS.seed;
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ workOrders: TOTAL });
});
afterAll(() => sandbox.close());

/** The seed data computed here, not asked of the server. */
const seeded = {
  'work-orders': Array.from({ length: TOTAL }, (_, i) => workOrderAt(SEED, i)),
  assets: Array.from({ length: TOTAL }, (_, i) => assetAt(SEED, i)),
  'purchase-orders': Array.from({ length: TOTAL }, (_, i) => purchaseOrderAt(SEED, i)),
};
type EntityName = keyof typeof seeded;

async function run(flow: Flow, runId: string): Promise<{ result: RunResult; store: MemoryRunStore }> {
  const store = new MemoryRunStore();
  const connectors = createConnectors(sandbox.connections);
  const result = await startRun({ runId, flow, clock: systemClock, runtime: nodeRuntime, store, connectors }).done;
  return { result, store };
}

/** manual → entity-source → collect: what was read, in order. */
async function read(entity: EntityName, extra: Record<string, unknown> = {}) {
  const flow = sourceFlow('entity-source', { entity, pageSize: 73, ...extra });
  const { result, store } = await run(flow, `read-${entity}`);
  expect(result.status).toBe('succeeded');
  return { result, records: store.collected.map((c) => c.data as { key: string; updatedAt: string }) };
}

describe('entity-source against the sandbox maintenance system', () => {
  for (const entity of Object.keys(seeded) as EntityName[]) {
    it(`reads every seeded ${entity} record exactly once, in order`, async () => {
      const { result, records } = await read(entity);
      expect(result.counts).toMatchObject({ read: TOTAL, succeeded: TOTAL, failed: 0 });
      expect(records.map((r) => r.key)).toEqual(seeded[entity].map((r) => r.key));
      expect(new Set(records.map((r) => r.key)).size).toBe(TOTAL);
      expect(records).toEqual(seeded[entity]);
    });

    it(`reads exactly the ${entity} updated after an instant`, async () => {
      const times = seeded[entity].map((r) => Date.parse(r.updatedAt)).sort((a, b) => a - b);
      // an instant inside the data, not on a record's own timestamp
      const instant = new Date(times[Math.floor(TOTAL * 0.7)] as number).toISOString();
      const expected = seeded[entity].filter((r) => r.updatedAt > instant).map((r) => r.key);
      expect(expected.length).toBeGreaterThan(100);
      expect(expected.length).toBeLessThan(TOTAL);
      const { result, records } = await read(entity, { filters: { updatedAfter: instant } });
      expect(result.counts.read).toBe(expected.length);
      expect(records.map((r) => r.key)).toEqual(expected);
    });
  }

  it('sorts by last update, newest first, with a filter', async () => {
    const instant = '2026-01-03T00:00:00.000Z';
    const expected = seeded.assets
      .map((r, i) => ({ r, i }))
      .filter(({ r }) => r.updatedAt > instant)
      .sort((a, b) => b.r.updatedAt.localeCompare(a.r.updatedAt) || b.i - a.i)
      .map(({ r }) => r.key);
    const { records } = await read('assets', { filters: { updatedAfter: instant, sort: '-updatedAt' } });
    expect(records.map((r) => r.key)).toEqual(expected);
  });

  it('refuses a filter that is not an instant when the flow is validated', () => {
    const result = validateFlow({
      format: 1,
      name: 'bad',
      nodes: [
        { id: 'start', type: 'manual' },
        { id: 'src', type: 'entity-source', params: { entity: 'assets', filters: { updatedAfter: 'yesterday' } } },
      ],
      edges: [{ source: 'start', target: 'src' }],
    });
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result.problems)).toMatch(/updatedAfter/);
  });
});

/** entity-source → map → entity-write → error-branch → collect. */
function moveFlow(entity: EntityName, fields: { name: string; expression: string }[], write: Record<string, unknown>) {
  return flowOf(
    [
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'entity-source', params: { entity } },
      { id: 'shape', type: 'map', params: { keep: 'none', fields } },
      {
        id: 'erp',
        type: 'entity-write',
        params: { entity, retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 100 }, ...write },
      },
      { id: 'rejected', type: 'error-branch' },
      { id: 'dead-letter', type: 'collect' },
    ],
    [...chain('start', 'src', 'shape', 'erp'), ...chain('erp:error', 'rejected', 'dead-letter')],
  );
}

describe('entity-source → map → entity-write against the sandbox ERP', () => {
  it('moves the good work orders exactly once in batches and fails the incomplete ones with their reasons', async () => {
    const reason = (w: (typeof seeded)['work-orders'][number]) =>
      !w.title ? 'title is required' : !w.assetKey ? 'assetKey is required' : undefined;
    const good = seeded['work-orders'].filter((w) => !reason(w));
    const incomplete = seeded['work-orders'].filter((w) => reason(w));
    const logBefore = sandbox.erpStats().log.length;
    const { result, store } = await run(
      moveFlow(
        'work-orders',
        [
          { name: 'externalKey', expression: 'key' },
          { name: 'title', expression: 'title' },
          { name: 'assetKey', expression: 'assetKey' },
        ],
        { mode: 'batch', batchSize: 100 },
      ),
      'wo-move',
    );
    expect(result.status).toBe('succeeded');
    expect(result.counts).toMatchObject({ read: TOTAL, succeeded: good.length, failed: incomplete.length });
    const stats = sandbox.erpStats().entities['work-orders'];
    for (const w of good) expect(stats.writes[w.key], w.key).toBe(1);
    expect(Object.keys(stats.writes)).toHaveLength(good.length);
    for (const w of incomplete) expect(stats.rejections[w.key], w.key).toBe(reason(w));
    const requests = sandbox.erpStats().log.slice(logBefore);
    expect(requests.every((r) => r.entity === 'work-orders' && r.kind === 'batch' && !r.replayed)).toBe(true);
    expect(requests.reduce((n, r) => n + r.records, 0)).toBe(TOTAL);
    const failed = store.outcomes.filter((o) => o.status === 'failed');
    expect(failed.map((o) => [o.key, o.error?.message]).sort()).toEqual(
      incomplete.map((w) => [w.key, `HTTP 422: ${reason(w)}`]).sort(),
    );
    expect(store.collected.map((c) => c.key).sort()).toEqual(incomplete.map((w) => w.key).sort());
  });

  it('moves purchase orders by the supplier and lines rules', async () => {
    const reason = (p: (typeof seeded)['purchase-orders'][number]) =>
      !p.supplierId ? 'supplierId is required' : p.lines.length === 0 ? 'lines must be a non-empty array' : undefined;
    const good = seeded['purchase-orders'].filter((p) => !reason(p));
    const incomplete = seeded['purchase-orders'].filter((p) => reason(p));
    expect(incomplete.some((p) => !p.supplierId)).toBe(true);
    expect(incomplete.some((p) => p.supplierId && p.lines.length === 0)).toBe(true);
    const { result, store } = await run(
      moveFlow(
        'purchase-orders',
        [
          { name: 'externalKey', expression: 'key' },
          { name: 'number', expression: 'number' },
          { name: 'supplierId', expression: 'supplierId' },
          { name: 'lines', expression: 'lines' },
          { name: 'total', expression: 'total' },
        ],
        { mode: 'batch' },
      ),
      'po-move',
    );
    expect(result.counts).toMatchObject({ read: TOTAL, succeeded: good.length, failed: incomplete.length });
    const stats = sandbox.erpStats().entities['purchase-orders'];
    for (const p of good) expect(stats.writes[p.key], p.key).toBe(1);
    expect(Object.keys(stats.writes)).toHaveLength(good.length);
    for (const p of incomplete) expect(stats.rejections[p.key], p.key).toBe(reason(p));
    expect(
      store.outcomes
        .filter((o) => o.status === 'failed')
        .map((o) => [o.key, o.error?.message])
        .sort(),
    ).toEqual(incomplete.map((p) => [p.key, `HTTP 422: ${reason(p)}`]).sort());
  });

  it('writes record by record too (assets updated after an instant)', async () => {
    const instant = '2026-01-07T12:00:00.000Z';
    const chosen = seeded.assets.filter((a) => a.updatedAt > instant);
    const good = chosen.filter((a) => a.name);
    const flow = moveFlow(
      'assets',
      [
        { name: 'externalKey', expression: 'key' },
        { name: 'name', expression: 'name' },
      ],
      {
        mode: 'record',
        concurrency: 4,
      },
    );
    const src = flow.nodes.find((n) => n.id === 'src');
    (src?.params as Record<string, unknown>).filters = { updatedAfter: instant };
    const before = sandbox.erpStats().log.length;
    const { result } = await run(flow, 'assets-record');
    expect(result.counts).toMatchObject({ read: chosen.length, succeeded: good.length });
    const log = sandbox.erpStats().log.slice(before);
    expect(log.every((r) => r.entity === 'assets' && r.kind === 'single')).toBe(true);
    for (const a of good) expect(sandbox.erpStats().entities.assets.writes[a.key], a.key).toBe(1);
  });
});

describe('examples', () => {
  it('runs entity-assets-to-erp.flow.json against the sandbox', async () => {
    const doc = JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', 'entity-assets-to-erp.flow.json'), 'utf8'));
    const { result: done } = await run(validFlow(doc), 'example-assets');
    const named = seeded.assets.filter((a) => a.name);
    expect(done.counts).toMatchObject({ read: TOTAL, succeeded: named.length, failed: TOTAL - named.length });
  });
});

describe('the unified list endpoints', () => {
  const get = async (p: string) => {
    const res = await fetch(`${sandbox.url}/maintenance${p}`, {
      headers: { authorization: `Bearer ${SANDBOX_DEFAULTS.maintenanceToken}` },
    });
    return {
      status: res.status,
      body: (await res.json()) as { data: { key: string }[]; meta: Record<string, unknown> },
    };
  };

  it('pages assets by page number and by offset in the same order as by token, filtered too', async () => {
    const instant = '2026-01-04T00:00:00.000Z';
    const expected = seeded.assets.filter((a) => a.updatedAt > instant).map((a) => a.key);
    const byPage: string[] = [];
    for (let page = 1; ; page++) {
      const { body } = await get(
        `/api/eam/assets?paging=page&per_page=90&page=${page}&filter[updatedAt:gt]=${instant}`,
      );
      byPage.push(...body.data.map((r) => r.key));
      if (body.meta.last_page === page) break;
    }
    expect(byPage).toEqual(expected);
    const byOffset: string[] = [];
    for (let offset = 0; ; offset += 90) {
      const { body } = await get(
        `/api/eam/assets?paging=offset&limit=90&offset=${offset}&filter[updatedAt:gt]=${instant}`,
      );
      byOffset.push(...body.data.map((r) => r.key));
      if (body.data.length < 90) break;
    }
    expect(byOffset).toEqual(expected);
  });

  it('serves one record by key, and refuses a bad filter, sort or token', async () => {
    const asset = seeded.assets[123];
    expect((await get(`/api/eam/assets/${asset?.key}`)).body.data).toEqual(asset);
    const po = seeded['purchase-orders'][456];
    expect((await get(`/api/eam/purchase-orders/${po?.key}`)).body.data).toEqual(po);
    expect((await get('/api/eam/assets/AS-PUMP-9999')).status).toBe(404);
    expect((await get('/api/eam/assets?filter[updatedAt:gt]=yesterday')).status).toBe(400);
    expect((await get('/api/eam/purchase-orders?sort=name')).status).toBe(400);
    const first = await get('/api/eam/assets?limit=10');
    const token = first.body.meta.continuation_token as string;
    expect((await get(`/api/eam/purchase-orders?continuation_token=${token}`)).status).toBe(400);
  });

  it('serves a list of assets by key (?ids=), leaving out the unknown ones', async () => {
    const [a, b] = [seeded.assets[7], seeded.assets[300]];
    const { body } = await get(`/api/eam/assets?ids=${b?.key},AS-PUMP-9999,${a?.key}`);
    expect(body.data).toEqual([b, a]);
    const tooMany = Array.from({ length: 1001 }, () => a?.key).join(',');
    expect((await get(`/api/eam/assets?ids=${tooMany}`)).status).toBe(400);
  });

  it('serves unfiltered work orders as before', async () => {
    const { body } = await get('/api/eam/work-orders?limit=5');
    expect(body.data).toEqual(seeded['work-orders'].slice(0, 5));
    expect(Buffer.from(body.meta.continuation_token as string, 'base64url').toString()).toBe('wo:5');
  });
});
