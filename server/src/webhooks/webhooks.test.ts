import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { FlowDetail, RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestSluice, TEST_TOKEN, type TestSluice } from '../http/test-support.js';
import { sqliteClient } from '../storage/sqlite/index.js';
import { type HookView, parseRecords, SIGNATURE_HEADER, signBody } from './webhooks.js';

let t: TestSluice;
let base: string;
let server: ReturnType<typeof serve>;
let flow: FlowDetail;
let hook: HookView;

const auth = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };
const hookFlow = (maxBodyBytes = 2000) => ({
  format: 1,
  name: 'Orders from a webhook',
  nodes: [
    { id: 'incoming', type: 'webhook', params: { keyField: 'id', maxBodyBytes } },
    { id: 'big', type: 'filter', params: { condition: 'amount >= 10' } },
    { id: 'out', type: 'collect' },
  ],
  edges: [
    { source: 'incoming', target: 'big' },
    { source: 'big', target: 'out' },
  ],
});
const call = async <T>(path: string, init: RequestInit = {}) => {
  const res = await fetch(`${base}${path}`, { ...init, headers: { ...auth, ...(init.headers as object) } });
  return { status: res.status, body: (await res.json()) as T };
};
const post = (body: string, headers: Record<string, string>) =>
  fetch(`${base}${hook.path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

beforeAll(async () => {
  t = await openTestSluice();
  const app = t.raw;
  server = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  flow = (await call<FlowDetail>('/api/flows', { method: 'POST', body: JSON.stringify(hookFlow()) })).body;
  const hooks = await call<{ items: HookView[] }>(`/api/flows/${flow.id}/hooks`);
  hook = hooks.body.items[0] as HookView;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await t.close();
});

describe('a webhook trigger', () => {
  it('has an unguessable address and a secret, stored encrypted', () => {
    expect(hook).toMatchObject({ nodeId: 'incoming', path: expect.stringMatching(/^\/hooks\/hk_[\w-]{16}$/) });
    expect(hook.secret).toMatch(/^whsec_/);
    const stored = JSON.stringify(sqliteClient(t.parts.storage).$client.prepare('SELECT * FROM webhooks').all());
    expect(stored).not.toContain(hook.secret);
  });

  it('refuses records until the flow is published, and while it is disabled', async () => {
    const body = JSON.stringify([{ id: 'a', amount: 5 }]);
    const early = await post(body, { [SIGNATURE_HEADER]: signBody(hook.secret, body) });
    expect(early.status).toBe(409);
    expect(((await early.json()) as { error: { message: string } }).error.message).toContain('no published version');
    expect((await call(`/api/flows/${flow.id}/publish`, { method: 'POST' })).status).toBe(200);
    await call(`/api/flows/${flow.id}/enabled`, { method: 'PUT', body: '{"enabled":false}' });
    expect((await post(body, { [SIGNATURE_HEADER]: signBody(hook.secret, body) })).status).toBe(409);
    await call(`/api/flows/${flow.id}/enabled`, { method: 'PUT', body: '{"enabled":true}' });
  });

  it('starts a run of the published version over a signed JSON array, answering 202 with the run id', async () => {
    const records = Array.from({ length: 40 }, (_, i) => ({ id: `o${i}`, amount: i }));
    const body = JSON.stringify(records);
    const res = await post(body, { [SIGNATURE_HEADER]: signBody(hook.secret, body) });
    expect(res.status).toBe(202);
    const { runId, records: count } = (await res.json()) as { runId: string; records: number };
    expect(count).toBe(40);
    const result = await t.parts.runner.wait(runId);
    expect(result.counts).toEqual({ read: 40, succeeded: 30, filtered: 10, failed: 0, cancelled: 0 });
    const run = (await call<RunDetail>(`/api/runs/${runId}`)).body;
    expect(run).toMatchObject({ trigger: 'webhook', flowVersion: 1 });
    const collected = await call<{ items: { key: string }[] }>(`/api/runs/${runId}/collected?limit=100`);
    expect(collected.body.items.map((c) => c.key)).toEqual(records.slice(10).map((r) => r.id));
  });

  it('takes JSON lines and a plain secret header too', async () => {
    const body = '{"id":"x1","amount":50}\n\n{"id":"x2","amount":1}\n';
    const res = await post(body, { 'x-sluice-secret': hook.secret, 'content-type': 'application/x-ndjson' });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    expect((await t.parts.runner.wait(runId)).counts).toMatchObject({ read: 2, succeeded: 1, filtered: 1 });
  });

  it('answers 401 to a bad or missing signature and 413 to a body over the limit, starting nothing', async () => {
    const runsBefore = sqliteClient(t.parts.storage).$client.prepare('SELECT COUNT(*) AS n FROM runs').get();
    const body = JSON.stringify([{ id: 'a', amount: 1 }]);
    const unsigned = await post(body, {});
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as { error: { message: string } }).error.message).toContain(SIGNATURE_HEADER);
    expect((await post(body, { [SIGNATURE_HEADER]: signBody('whsec_other', body) })).status).toBe(401);
    expect((await post(`${body} `, { [SIGNATURE_HEADER]: signBody(hook.secret, body) })).status).toBe(401);
    expect((await post(body, { 'x-sluice-secret': 'whsec_wrong' })).status).toBe(401);
    const big = JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ id: `b${i}`, amount: i })));
    const tooBig = await post(big, { [SIGNATURE_HEADER]: signBody(hook.secret, big) });
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { error: { message: string } }).error.message).toContain('2000 bytes');
    // streamed without a length: still cut off at the limit
    const chunks = [big.slice(0, 1500), big.slice(1500)];
    const stream = new ReadableStream({
      start(c) {
        for (const chunk of chunks) c.enqueue(new TextEncoder().encode(chunk));
        c.close();
      },
    });
    const streamed = await fetch(`${base}${hook.path}`, {
      method: 'POST',
      body: stream,
      headers: { [SIGNATURE_HEADER]: signBody(hook.secret, big) },
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    const notRecords = '[1, 2]';
    const bad = await post(notRecords, { [SIGNATURE_HEADER]: signBody(hook.secret, notRecords) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe(
      '[0]: each record must be a JSON object',
    );
    expect((await fetch(`${base}/hooks/hk_nope`, { method: 'POST', body })).status).toBe(404);
    expect(sqliteClient(t.parts.storage).$client.prepare('SELECT COUNT(*) AS n FROM runs').get()).toEqual(runsBefore);
  });

  it('rotates its secret: the old one stops working at once', async () => {
    const rotated = await call<HookView>(`/api/flows/${flow.id}/hooks/incoming/rotate`, { method: 'POST' });
    expect(rotated.body.secret).not.toBe(hook.secret);
    const body = '[{"id":"r","amount":99}]';
    expect((await post(body, { [SIGNATURE_HEADER]: signBody(hook.secret, body) })).status).toBe(401);
    const res = await post(body, { [SIGNATURE_HEADER]: signBody(rotated.body.secret, body) });
    expect(res.status).toBe(202);
    await t.parts.runner.wait(((await res.json()) as { runId: string }).runId);
  });
});

describe('parseRecords', () => {
  it('names the line of bad JSON lines', () => {
    expect(() => parseRecords('{"a":1}\n{"a":\n')).toThrow(/^line 2: not valid JSON/);
    expect(() => parseRecords('  ')).toThrow(/got nothing/);
    expect(parseRecords('[{"a":1},{"b":2}]')).toEqual([{ a: 1 }, { b: 2 }]);
  });
});
