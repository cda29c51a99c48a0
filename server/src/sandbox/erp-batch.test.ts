import { type RunResult, startRun } from '@sluice/engine';
import { chain, flowOf, MemoryRunStore } from '@sluice/engine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectors } from '../connectors.js';
import { nodeRuntime, systemClock } from '../node-runtime.js';
import { workOrderAt } from './data.js';
import { SANDBOX_DEFAULTS, type Sandbox, startSandbox } from './index.js';

let sandbox: Sandbox;
const erp = { authorization: 'Bearer sandbox-erp-token', 'content-type': 'application/json' };

beforeAll(async () => {
  sandbox = await startSandbox({ workOrders: 1000 });
});
afterAll(() => sandbox.close());

const post = (path: string, body: unknown, key?: string) =>
  fetch(`${sandbox.url}/erp/api/erp/${path}`, {
    method: 'POST',
    headers: { ...erp, ...(key ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify(body),
  });

describe('ERP batch endpoints', () => {
  it('answers 207 with a result per record, the rejected ones with the reason', async () => {
    const res = await post('work-orders/batch', {
      items: [
        { externalKey: 'BA-1', title: 'Fix', assetKey: 'AS-1' },
        { externalKey: 'BA-2', title: 'Fix', assetKey: null },
      ],
    });
    expect(res.status).toBe(207);
    const body = (await res.json()) as { results: unknown[] };
    expect(body.results).toEqual([
      { index: 0, key: 'BA-1', status: 201, id: expect.stringMatching(/^ERP-WO-\d+$/) },
      {
        index: 1,
        key: 'BA-2',
        status: 422,
        error: { code: 'validation_failed', message: 'assetKey is required', field: 'assetKey' },
      },
    ]);
    expect(sandbox.erpStats().writes['BA-1']).toBe(1);
    expect(sandbox.erpStats().rejections['BA-2']).toBe('assetKey is required');
  });

  it('takes a bare array, answers 200 when all were written, and replays a batch without writing again', async () => {
    const items = [{ externalKey: 'BB-1', title: 'Fix', assetKey: 'AS-1' }];
    const first = await post('work-orders/batch', items, 'batch-k1');
    const again = await post('work-orders/batch', items, 'batch-k1');
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(await first.json());
    expect(sandbox.erpStats().writes['BB-1']).toBe(1);
    expect(sandbox.erpStats().log.at(-1)).toMatchObject({
      entity: 'work-orders',
      kind: 'batch',
      idempotencyKey: 'batch-k1',
      records: 1,
      replayed: true,
    });
  });

  it('answers a record whose own idempotencyKey it has seen with its first result, however the batch around it is cut', async () => {
    const wo = (n: number, title = 'Fix') => ({
      externalKey: `BR-${n}`,
      title,
      assetKey: 'AS-1',
      idempotencyKey: `r:n:BR-${n}`,
    });
    const first = await post('work-orders/batch', { items: [wo(1), wo(2, '')] }, 'cut-a');
    const firstResults = ((await first.json()) as { results: { id?: string }[] }).results;
    const before = sandbox.erpStats().recordReplays;
    // the same records again under another request key, grouped with a new one
    const again = await post('work-orders/batch', { items: [wo(2, ''), wo(1), wo(3)] }, 'cut-b');
    expect(again.status).toBe(207);
    const results = ((await again.json()) as { results: unknown[] }).results;
    expect(results).toEqual([
      {
        index: 0,
        key: 'BR-2',
        status: 422,
        error: expect.objectContaining({ message: 'title is required' }),
        replayed: true,
      },
      { index: 1, key: 'BR-1', status: 201, id: firstResults[0]?.id, replayed: true },
      { index: 2, key: 'BR-3', status: 201, id: expect.stringMatching(/^ERP-WO-\d+$/) },
    ]);
    const stats = sandbox.erpStats();
    expect([stats.writes['BR-1'], stats.writes['BR-3']]).toEqual([1, 1]);
    expect(stats.recordReplays - before).toBe(2);
    expect(stats.log.at(-1)).toMatchObject({
      records: 3,
      accepted: 1,
      rejected: 0,
      replayedRecords: 2,
      replayed: false,
    });
  });

  it('refuses an empty or shapeless batch with 400', async () => {
    expect((await post('work-orders/batch', { items: [] })).status).toBe(400);
    expect((await post('assets/batch', { things: [1] })).status).toBe(400);
  });

  it('validates purchase orders and assets by their own rules, single and batch', async () => {
    const po = await post('purchase-orders', { externalKey: 'PO-1', supplierId: 'S-1', lines: [] });
    expect(po.status).toBe(422);
    expect(await po.json()).toEqual({
      error: { code: 'validation_failed', message: 'lines must be a non-empty array', field: 'lines' },
    });
    const good = await post('purchase-orders', { externalKey: 'PO-2', supplierId: 'S-1', lines: [{ sku: 'X' }] });
    expect(good.status).toBe(201);
    expect(((await good.json()) as { data: { id: string } }).data.id).toMatch(/^ERP-PO-/);
    const assets = await post('assets/batch', {
      items: [{ externalKey: 'A-1', name: 'Pump 7' }, { externalKey: 'A-2' }],
    });
    expect(assets.status).toBe(207);
    const results = ((await assets.json()) as { results: { status: number; error?: { message: string } }[] }).results;
    expect(results.map((r) => [r.status, r.error?.message])).toEqual([
      [201, undefined],
      [422, 'name is required'],
    ]);
    const stats = sandbox.erpStats();
    expect(stats.entities['purchase-orders']).toMatchObject({ accepted: 1, rejected: 1, writes: { 'PO-2': 1 } });
    expect(stats.entities.assets).toMatchObject({
      accepted: 1,
      rejected: 1,
      batches: 1,
      writes: { 'A-1': 1 },
      rejections: { 'A-2': 'name is required' },
    });
    // work order fields count work orders only
    expect(stats.writes['PO-2']).toBeUndefined();
  });
});

/** maintenance sandbox → batches of 50 → map to the ERP shape → ERP batch write → error branch → collect. */
function batchWriteFlow() {
  return flowOf(
    [
      { id: 'start', type: 'manual' },
      {
        id: 'work-orders',
        type: 'http-source',
        params: {
          connection: 'maintenance-sandbox',
          url: '/api/eam/work-orders',
          recordsPath: 'data',
          keyField: 'key',
          pageSize: 100,
          pagination: { type: 'token', tokenPath: 'meta.continuation_token', tokenParam: 'continuation_token' },
        },
      },
      { id: 'batch', type: 'batch', params: { size: 50 } },
      {
        id: 'to-erp',
        type: 'map',
        params: {
          keep: 'none',
          fields: [
            { name: 'externalKey', expression: 'key' },
            { name: 'title', expression: 'title' },
            { name: 'assetKey', expression: 'assetKey' },
            { name: 'site', expression: 'siteKey' },
          ],
        },
      },
      {
        id: 'erp-write',
        type: 'http-write',
        params: {
          connection: 'erp-sandbox',
          url: '/api/erp/work-orders/batch',
          mode: 'batch',
          batchSize: 50,
          bodyPath: 'items',
          successStatuses: [200, 207],
          resultsPath: 'results',
          resultKeyField: 'key',
          retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 100 },
        },
      },
      { id: 'rejected', type: 'error-branch' },
      { id: 'dead-letter', type: 'collect' },
    ],
    [
      ...chain('start', 'work-orders', 'batch', 'to-erp', 'erp-write'),
      ...chain('erp-write:error', 'rejected', 'dead-letter'),
    ],
  );
}

async function runOnce(runId: string): Promise<{ result: RunResult; store: MemoryRunStore }> {
  const store = new MemoryRunStore();
  const connectors = createConnectors(sandbox.connections);
  const run = startRun({ runId, flow: batchWriteFlow(), clock: systemClock, runtime: nodeRuntime, store, connectors });
  return { result: await run.done, store };
}

describe('a batch-mode flow against the sandbox ERP', () => {
  const all = Array.from({ length: 1000 }, (_, i) => workOrderAt(SANDBOX_DEFAULTS.seed, i));
  const reason = (w: (typeof all)[number]) =>
    !w.title ? 'title is required' : !w.assetKey ? 'assetKey is required' : undefined;
  const good = all.filter((w) => !reason(w));
  const incomplete = all.filter((w) => reason(w));

  it('writes every good work order exactly once, fails exactly the incomplete ones, and replays on a rerun', async () => {
    const before = sandbox.erpStats();
    const logBefore = before.log.length;
    const replaysBefore = before.replays;

    const { result, store } = await runOnce('batch-run-1');
    expect(result.status).toBe('succeeded');
    expect(result.counts).toMatchObject({ read: 1000, succeeded: good.length, failed: incomplete.length });

    const stats = sandbox.erpStats();
    for (const w of good) expect(stats.writes[w.key], w.key).toBe(1);
    for (const w of incomplete) {
      expect(stats.writes[w.key], w.key).toBeUndefined();
      expect(stats.rejections[w.key]).toBe(reason(w));
    }
    const batches = stats.log.slice(logBefore);
    expect(batches).toHaveLength(20);
    expect(batches.every((b) => b.kind === 'batch' && b.records === 50 && !b.replayed)).toBe(true);

    const failed = store.outcomes.filter((o) => o.status === 'failed');
    expect(failed.map((o) => o.key).sort()).toEqual(incomplete.map((w) => w.key).sort());
    for (const o of failed) {
      const w = incomplete.find((x) => x.key === o.key);
      expect(o.nodeId).toBe('erp-write');
      expect(o.error).toEqual({
        message: `HTTP 422: ${reason(w as (typeof all)[number])}`,
        code: 'http_422',
        httpStatus: 422,
      });
      expect(o.payload).toMatchObject({ externalKey: o.key, title: w?.title, assetKey: w?.assetKey });
    }
    expect(store.collected.map((c) => c.key).sort()).toEqual(incomplete.map((w) => w.key).sort());

    // the same run again: every batch is answered from the idempotency log, nothing is written twice
    const rerun = await runOnce('batch-run-1');
    expect(rerun.result.counts).toMatchObject({ read: 1000, succeeded: good.length, failed: incomplete.length });
    const after = sandbox.erpStats();
    expect(after.replays - replaysBefore).toBe(20);
    expect(after.log.slice(logBefore + 20).every((b) => b.replayed)).toBe(true);
    for (const w of good) expect(after.writes[w.key]).toBe(1);
    expect(rerun.store.outcomes.filter((o) => o.status === 'failed').map((o) => [o.key, o.error?.message])).toEqual(
      failed.map((o) => [o.key, o.error?.message]),
    );
  });
});
