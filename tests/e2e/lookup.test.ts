import type { CollectedRecord, Page, RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultView } from '../../server/src/sandbox/faults.js';
import { type Sandbox, startSandbox } from '../../server/src/sandbox/index.js';
import { api, eventually, type RunningServer, startServer } from '../support/server.js';

/**
 * The HTTP lookup node against the sandbox's maintenance system, the server in its own process:
 * 10,000 records naming 500 distinct assets cost at most 500 requests (the run's cache), and each
 * record carries its own asset. The sandbox's request count is the judge.
 */
const RECORDS = 10_000;
const DISTINCT = 500;
const TYPES = ['PUMP', 'CONVEYOR', 'COMPRESSOR', 'BOILER', 'CHILLER', 'PRESS', 'MIXER', 'FAN'];
/** The key of the i-th asset of the sandbox's data (types in turn, numbered from 0001). */
const ASSET_KEY = `($i := index % ${DISTINCT}; $types := ${JSON.stringify(TYPES)}; "AS-" & $types[$i % 8] & "-" & $pad($string($floor($i / 8) + 1), -4, "0"))`;

let sandbox: Sandbox;
let server: RunningServer;
beforeAll(async () => {
  sandbox = await startSandbox({ workOrders: 1000 });
  server = await startServer({ SLUICE_SANDBOX_URL: sandbox.url });
});
afterAll(async () => {
  await server?.stop();
  await sandbox?.close();
});

const post = <T>(p: string, body: unknown) =>
  api<T>(`${server.url}${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** Runs a flow document to its end and answers its detail. */
async function runFlow(document: unknown): Promise<RunDetail> {
  const { id } = await post<{ id: string }>('/api/flows', document);
  const { runId } = await post<{ runId: string }>(`/api/flows/${id}/runs`, {});
  return eventually(async () => {
    const detail = await api<RunDetail>(`${server.url}/api/runs/${runId}`);
    return ['succeeded', 'failed', 'cancelled'].includes(detail.status) ? detail : undefined;
  }, 90_000);
}

/** Requests the maintenance system has seen since its (empty) faults were set. */
async function maintenanceRequests(): Promise<number> {
  return (await api<FaultView>(`${sandbox.url}/maintenance/_sandbox/faults`)).stats.requests;
}

async function collected(runId: string): Promise<CollectedRecord[]> {
  const out: CollectedRecord[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: Page<CollectedRecord> = await api(`${server.url}/api/runs/${runId}/collected?${query}`);
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** manual → generate RECORDS → map (assetKey) → batch 500 → lookup (params) → collect. */
function enrichFlow(lookup: Record<string, unknown>) {
  return {
    format: 2,
    name: `Enrich ${RECORDS} records (${lookup.mode ?? 'record'})`,
    nodes: [
      { id: 'start', type: 'manual' },
      { id: 'gen', type: 'generate', params: { count: RECORDS, pageSize: 1000 } },
      {
        id: 'shape',
        type: 'map',
        params: {
          keep: 'none',
          fields: [
            { name: 'key', expression: 'key' },
            { name: 'assetKey', expression: ASSET_KEY },
          ],
        },
      },
      { id: 'batch', type: 'batch', params: { size: 500 } },
      {
        id: 'lookup',
        type: 'http-lookup',
        params: { connection: 'maintenance-sandbox', into: 'asset', concurrency: 8, ...lookup },
      },
      { id: 'kept', type: 'collect' },
    ],
    edges: [
      { source: 'start', target: 'gen' },
      { source: 'gen', target: 'shape' },
      { source: 'shape', target: 'batch' },
      { source: 'batch', target: 'lookup' },
      { source: 'lookup', target: 'kept' },
    ],
  };
}

describe('HTTP lookup against the sandbox', () => {
  it('enriches 10,000 records naming 500 assets with at most 500 requests, each record with its own asset', async () => {
    // the sandbox counts requests once faults are set (none here)
    await api(`${sandbox.url}/maintenance/_sandbox/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const before = await maintenanceRequests();
    const detail = await runFlow(enrichFlow({ url: '/api/eam/assets/{assetKey}', responsePath: 'data' }));
    expect(detail.status).toBe('succeeded');
    expect(detail.counts).toMatchObject({ read: RECORDS, succeeded: RECORDS, failed: 0 });
    // the lookups plus the connection's check before the run
    const requests = (await maintenanceRequests()) - before;
    expect(requests).toBeGreaterThanOrEqual(DISTINCT);
    expect(requests).toBeLessThanOrEqual(DISTINCT + 1);
    expect(detail.nodeCounts.lookup).toMatchObject({ in: RECORDS, out: RECORDS, cacheHits: RECORDS - DISTINCT });

    const records = await collected(detail.id);
    expect(records).toHaveLength(RECORDS);
    const byAsset = new Map<string, unknown>();
    for (const r of records) {
      const data = r.data as { assetKey: string; asset: { key: string; name: string } };
      expect(data.asset.key).toBe(data.assetKey);
      const seen = byAsset.get(data.assetKey);
      if (seen) expect(data.asset).toEqual(seen);
      else byAsset.set(data.assetKey, data.asset);
    }
    expect(byAsset.size).toBe(DISTINCT);
    // the merged fields are the system's own answer
    for (const key of ['AS-PUMP-0001', 'AS-FAN-0001', 'AS-BOILER-0063']) {
      const direct = await api<{ data: unknown }>(`${sandbox.url}/maintenance/api/eam/assets/${key}`, {
        headers: { authorization: 'Bearer sandbox-maintenance-token' },
      });
      expect(byAsset.get(key)).toEqual(direct.data);
    }

    // batch mode: the 500 keys asked for 50 at a time
    const beforeBatch = await maintenanceRequests();
    const batched = await runFlow(
      enrichFlow({
        url: '/api/eam/assets',
        mode: 'batch',
        keyField: 'assetKey',
        batchSize: 50,
        resultsPath: 'data',
        resultKeyField: 'key',
      }),
    );
    expect(batched.counts).toMatchObject({ read: RECORDS, succeeded: RECORDS, failed: 0 });
    expect((await maintenanceRequests()) - beforeBatch).toBeLessThanOrEqual(DISTINCT / 50 + 1);
    const sample = (await api<Page<CollectedRecord>>(`${server.url}/api/runs/${batched.id}/collected?limit=600`)).items;
    for (const r of sample) {
      const data = r.data as { assetKey: string; asset: unknown };
      expect(data.asset).toEqual(byAsset.get(data.assetKey));
    }
  });

  it('follows its setting on a 404: the record fails with the answer, or goes on with null', async () => {
    const records = [
      { key: 'a', assetKey: 'AS-PUMP-0001' },
      { key: 'b', assetKey: 'AS-PUMP-9999' },
      { key: 'c', assetKey: 'AS-FAN-0002' },
    ];
    const flow = (notFound: string) => ({
      format: 2,
      name: `Lookup, 404 → ${notFound}`,
      nodes: [
        { id: 'start', type: 'manual' },
        { id: 'src', type: 'inline-records', params: { records, keyField: 'key' } },
        {
          id: 'lookup',
          type: 'http-lookup',
          params: {
            connection: 'maintenance-sandbox',
            url: '/api/eam/assets/{assetKey}',
            responsePath: 'data',
            into: 'asset',
            notFound,
          },
        },
        { id: 'kept', type: 'collect' },
      ],
      edges: [
        { source: 'start', target: 'src' },
        { source: 'src', target: 'lookup' },
        { source: 'lookup', target: 'kept' },
      ],
    });
    const failing = await runFlow(flow('fail'));
    expect(failing.counts).toMatchObject({ read: 3, succeeded: 2, failed: 1 });
    const failed = await api<{ items: { key: string; nodeId: string; error: { message: string } | null }[] }>(
      `${server.url}/api/runs/${failing.id}/records?status=failed`,
    );
    expect(failed.items).toHaveLength(1);
    expect(failed.items[0]).toMatchObject({ key: 'b', nodeId: 'lookup' });
    expect(failed.items[0]?.error?.message).toBe('HTTP 404: asset AS-PUMP-9999 does not exist');

    const passing = await runFlow(flow('null'));
    expect(passing.counts).toMatchObject({ read: 3, succeeded: 3, failed: 0 });
    const kept = await collected(passing.id);
    expect(kept.map((r) => (r.data as { asset: { key: string } | null }).asset?.key ?? null)).toEqual([
      'AS-PUMP-0001',
      null,
      'AS-FAN-0002',
    ]);
  });
});
