import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { flowDocument } from '@sluice/engine/testing';
import type { RecordOutcomeView, RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestSluice, type TestSluice } from '../http/test-support.js';

/**
 * Changed-only through the real runner and store: a loopback system serves 50 records, some of which
 * change between runs; a run that fails leaves the stored hashes as they were.
 */
let t: TestSluice;
let server: Server;
let base = '';
let records: { key: string; title: string; n: number }[] = [];
let broken = false;

beforeAll(async () => {
  records = Array.from({ length: 50 }, (_, n) => ({ key: `wo-${n}`, title: `Work order ${n}`, n }));
  server = createServer((req, res) => {
    const offset = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('offset') ?? 0);
    if (broken && offset > 0) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"data": "not a list"}');
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ data: records.slice(offset, offset + 10) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t = await openTestSluice({ workOrders: 10 });
});

afterAll(async () => {
  await t?.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const flow = () =>
  flowDocument(
    [
      { id: 'start', type: 'manual' },
      {
        id: 'src',
        type: 'http-source',
        params: { url: `${base}/items`, keyField: 'key', pageSize: 10, pagination: { type: 'offset' } },
      },
      { id: 'batch', type: 'batch', params: { size: 7 } },
      { id: 'changed', type: 'changed-only' },
      { id: 'keep', type: 'collect' },
    ],
    undefined,
    { name: 'Changed only' },
  );

async function runOnce(flowId: string): Promise<{ run: RunDetail; passed: string[] }> {
  const started = await t.app.request(`/api/flows/${flowId}/runs`, { method: 'POST' });
  expect(started.status).toBe(202);
  const { runId } = (await started.json()) as { runId: string };
  await t.parts.runner.wait(runId);
  const run = (await (await t.app.request(`/api/runs/${runId}`)).json()) as RunDetail;
  const page = await t.app.request(`/api/runs/${runId}/records?status=succeeded&limit=500`);
  const passed = ((await page.json()) as { items: RecordOutcomeView[] }).items.map((o) => o.key);
  return { run, passed };
}

describe('changed-only through the runner', () => {
  it('passes every record, then exactly the changed and new ones; a failed run changes nothing', async () => {
    const created = await t.app.request('/api/flows', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(flow()),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    const first = await runOnce(id);
    expect(first.run.status).toBe('succeeded');
    expect(first.passed).toHaveLength(50);

    // 6 records change, 2 are new
    for (const n of [3, 11, 12, 27, 40, 49])
      records[n] = { ...(records[n] as (typeof records)[number]), title: 'edited' };
    records.push({ key: 'wo-50', title: 'new', n: 50 }, { key: 'wo-51', title: 'new', n: 51 });
    const changed = ['wo-3', 'wo-11', 'wo-12', 'wo-27', 'wo-40', 'wo-49', 'wo-50', 'wo-51'];

    // a run that fails after its first page stages what it saw there, but that never becomes current
    broken = true;
    const failed = await runOnce(id);
    expect(failed.run.status).toBe('failed');
    expect(failed.passed).toEqual(['wo-3']);
    broken = false;

    const second = await runOnce(id);
    expect(second.run.status).toBe('succeeded');
    expect(second.passed.sort()).toEqual([...changed].sort());
    expect(second.run.counts).toEqual({ read: 52, succeeded: 8, filtered: 44, failed: 0, cancelled: 0 });
    expect(second.run.nodeCounts.changed).toEqual({ in: 52, out: 8, error: 0, filtered: 44 });

    // nothing changed since
    const third = await runOnce(id);
    expect(third.passed).toEqual([]);
    expect(third.run.counts.filtered).toBe(52);
  });
});
