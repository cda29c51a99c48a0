import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { flowDocument } from '@sluice/engine/testing';
import type { RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestSluice, type TestSluice } from '../http/test-support.js';

/**
 * Incremental sync through the real runner: a loopback system serves records with `updatedAt` and
 * honours `modified_after` (strictly after), oldest change first, offset paging.
 */
interface Item {
  key: string;
  updatedAt: string;
}

let t: TestSluice;
let server: Server;
let base = '';
let records: Item[] = [];
let mode: 'ok' | 'broken' | 'slow' = 'ok';
const seen: (string | null)[] = [];
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();

beforeAll(async () => {
  records = Array.from({ length: 100 }, (_, i) => ({ key: `wo-${i}`, updatedAt: at(i) }));
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const after = url.searchParams.get('modified_after');
    const offset = Number(url.searchParams.get('offset') ?? 0);
    const limit = Number(url.searchParams.get('limit') ?? 25);
    seen.push(after);
    if (mode === 'broken' && offset > 0) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"data": "not a list"}');
      return;
    }
    const changed = records
      .filter((r) => after === null || Date.parse(r.updatedAt) > Date.parse(after))
      .sort((a, b) => Date.parse(a.updatedAt) - Date.parse(b.updatedAt));
    const send = () =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ data: changed.slice(offset, offset + limit) }));
    if (mode === 'slow' && offset > 0) setTimeout(send, 2000);
    else send();
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
        params: {
          url: `${base}/items`,
          keyField: 'key',
          pageSize: 10,
          pagination: { type: 'offset' },
          incremental: { field: 'updatedAt', param: 'modified_after' },
        },
      },
      { id: 'keep', type: 'collect' },
    ],
    undefined,
    { name: 'Incremental loopback' },
  );

const post = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

async function runOnce(flowId: string): Promise<RunDetail> {
  const started = await t.app.request(`/api/flows/${flowId}/runs`, { method: 'POST' });
  expect(started.status).toBe(202);
  const { runId } = (await started.json()) as { runId: string };
  await t.parts.runner.wait(runId);
  return (await (await t.app.request(`/api/runs/${runId}`)).json()) as RunDetail;
}

async function watermarks(flowId: string) {
  const res = await t.app.request(`/api/flows/${flowId}/watermarks`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: { nodeId: string; value: string; runId: string; updatedAt: string }[] }).items;
}

describe('incremental sync through the runner', () => {
  it('reads everything, then only what changed; a failed or cancelled run leaves the watermark', async () => {
    const created = await t.app.request('/api/flows', post(flow()));
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect(await watermarks(id)).toEqual([]);

    // run 1: no watermark yet, reads all 100 and stores the largest updatedAt
    seen.length = 0;
    const first = await runOnce(id);
    expect(first.status).toBe('succeeded');
    expect(first.counts.read).toBe(100);
    expect(seen.every((s) => s === null)).toBe(true);
    const stored = await watermarks(id);
    expect(stored).toEqual([{ nodeId: 'src', value: at(99), runId: first.id, updatedAt: expect.any(String) }]);

    // 20 records change
    for (let i = 0; i < 100; i += 5) records[i] = { key: `wo-${i}`, updatedAt: at(200 + i) };

    // a run that fails after reading part of them leaves the watermark where it was
    mode = 'broken';
    seen.length = 0;
    const failed = await runOnce(id);
    expect(failed.status).toBe('failed');
    expect(failed.counts.read).toBe(10); // the first page only
    expect(seen[0]).toBe(at(99));
    expect(await watermarks(id)).toEqual(stored);

    // a cancelled run leaves it too
    mode = 'slow';
    const started = await t.app.request(`/api/flows/${id}/runs`, { method: 'POST' });
    const { runId } = (await started.json()) as { runId: string };
    for (let i = 0; i < 200 && seen.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 200; i++) {
      try {
        await t.parts.runner.cancel(runId);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    expect((await t.parts.runner.wait(runId)).status).toBe('cancelled');
    expect(await watermarks(id)).toEqual(stored);

    // run 2: sends the watermark on every page and reads only the 20 changed
    mode = 'ok';
    seen.length = 0;
    const second = await runOnce(id);
    expect(second.status).toBe('succeeded');
    expect(second.counts.read).toBe(20);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s === at(99))).toBe(true);
    const collected = (await (await t.app.request(`/api/runs/${second.id}/collected?limit=100`)).json()) as {
      items: { key: string }[];
    };
    expect(collected.items.map((c) => c.key).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `wo-${i * 5}`).sort(),
    );
    expect(await watermarks(id)).toEqual([
      { nodeId: 'src', value: at(295), runId: second.id, updatedAt: expect.any(String) },
    ]);

    // nothing changed since: run 3 reads nothing and keeps the watermark
    const third = await runOnce(id);
    expect(third.counts.read).toBe(0);
    expect((await watermarks(id))[0]?.value).toBe(at(295));
  });

  it('answers 404 for the watermarks of a flow that does not exist', async () => {
    const res = await t.app.request('/api/flows/no-such-flow/watermarks');
    expect(res.status).toBe(404);
  });
});
