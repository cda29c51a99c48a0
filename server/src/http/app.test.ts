import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FlowDetail, Page, RecordOutcomeView, RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FLOW_FILE } from '../demo.js';
import { REPO_ROOT } from '../paths.js';
import type { Runner } from '../runs/runner.js';
import { openTestSluice, type TestSluice } from './test-support.js';

let t: TestSluice;
let app: TestSluice['app'];
let runner: Runner;

const demo = () =>
  JSON.parse(readFileSync(DEMO_FLOW_FILE, 'utf8')) as Record<string, unknown> & {
    nodes: { id: string; params: Record<string, unknown> }[];
  };
const json = (method: string, body: unknown) => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

beforeAll(async () => {
  t = await openTestSluice({ workOrders: 120 });
  app = t.app;
  runner = t.parts.runner;
});

afterAll(async () => {
  await t.close();
});

describe('the API', () => {
  it('serves the example flows as templates, each a valid flow', async () => {
    const { items } = (await (await app.request('/api/templates')).json()) as {
      items: { file: string; name: string; document: unknown }[];
    };
    const files = readdirSync(path.join(REPO_ROOT, 'examples')).filter((f) => f.endsWith('.flow.json'));
    expect(items.map((t) => t.file)).toEqual(files.sort());
    expect(items.map((t) => t.file)).toContain('work-orders-to-erp.flow.json');
    for (const t of items) {
      const res = await app.request('/api/flows/validate', json('POST', t.document));
      expect(((await res.json()) as { ok: boolean }).ok, t.file).toBe(true);
    }
  });

  it('answers health', async () => {
    const res = await app.request('/api/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  });

  it('creates, lists, gets and updates flows, one version per save', async () => {
    const created = await app.request('/api/flows', json('POST', demo()));
    expect(created.status).toBe(201);
    const flow = (await created.json()) as FlowDetail;
    expect(flow).toMatchObject({ name: 'Work orders → ERP', latestVersion: 1, problems: [] });
    const changed = demo();
    changed.name = 'Renamed';
    const updated = (await (await app.request(`/api/flows/${flow.id}`, json('PUT', changed))).json()) as FlowDetail;
    expect(updated.latestVersion).toBe(2);
    const v1 = (await (await app.request(`/api/flows/${flow.id}?version=1`)).json()) as FlowDetail;
    expect(v1.document.name).toBe('Work orders → ERP');
    const list = (await (await app.request('/api/flows')).json()) as { items: { id: string; name: string }[] };
    expect(list.items).toContainEqual(expect.objectContaining({ id: flow.id, name: 'Renamed' }));
  });

  it('answers bad input with a 4xx that names the field, and stores nothing', async () => {
    const before = ((await (await app.request('/api/flows')).json()) as { items: unknown[] }).items.length;
    const notJson = await app.request('/api/flows', json('POST', '{"format": 1,'));
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe('bad_json');
    const empty = await app.request('/api/flows', { method: 'POST' });
    expect(empty.status).toBe(400);
    const wrongShape = await app.request('/api/flows', json('POST', { format: 1, name: '', nodes: 'none' }));
    expect(wrongShape.status).toBe(422);
    const body = (await wrongShape.json()) as { error: { message: string; path: string; problems: unknown[] } };
    expect(body.error.path).toBe('name');
    expect(body.error.problems).toHaveLength(2);
    expect(((await (await app.request('/api/flows')).json()) as { items: unknown[] }).items.length).toBe(before);
    expect((await app.request('/api/flows/nope')).status).toBe(404);
    expect((await app.request('/api/runs/123456')).status).toBe(404);
    expect((await app.request('/api/runs/abc')).status).toBe(404);
    expect((await app.request('/api/runs?limit=0')).status).toBe(400);
    expect((await app.request('/api/nothing-here')).status).toBe(404);
  });

  it('validates a document without saving it', async () => {
    const flow = demo();
    (flow.nodes.find((n) => n.id === 'batch') as { params: Record<string, unknown> }).params.size = -1;
    (flow.nodes.find((n) => n.id === 'to-erp-shape') as unknown as { params: { fields: { expression: string }[] } })
      .params.fields[0]!.expression = 'key &';
    const res = await app.request('/api/flows/validate', json('POST', flow));
    const body = (await res.json()) as { ok: boolean; problems: { path: string; code: string }[] };
    expect(res.status).toBe(200);
    expect(body.ok).toBe(false);
    expect(body.problems.map((p) => `${p.code} ${p.path}`)).toEqual([
      'bad-parameter nodes[2].params.size',
      'bad-expression nodes[4].params.fields[0].expression',
    ]);
  });

  it('saves a flow with errors as a draft but refuses to run it', async () => {
    const flow = demo();
    (flow.nodes.find((n) => n.id === 'batch') as { params: Record<string, unknown> }).params.size = 0;
    const draft = (await (await app.request('/api/flows', json('POST', flow))).json()) as FlowDetail;
    expect(draft.problems[0]?.path).toBe('nodes[2].params.size');
    const run = await app.request(`/api/flows/${draft.id}/runs`, { method: 'POST' });
    expect(run.status).toBe(422);
    expect(((await run.json()) as { error: { message: string } }).error.message).toMatch(
      /nodes\[2\]\.params\.size: must be at least 1/,
    );
  });

  it('runs a flow: 202 at once, then counts, outcomes by status, and a record history across runs', async () => {
    const flow = demo();
    (flow.nodes.find((n) => n.id === 'pause') as { params: Record<string, unknown> }).params.ms = 0;
    flow.name = 'Fast demo';
    const { id } = (await (await app.request('/api/flows', json('POST', flow))).json()) as FlowDetail;
    const started = await app.request(`/api/flows/${id}/runs`, { method: 'POST' });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    await runner.wait(runId);
    const run = (await (await app.request(`/api/runs/${runId}`)).json()) as RunDetail;
    expect(run.status).toBe('succeeded');
    expect(run.counts.read).toBe(120);
    expect(run.counts.succeeded + run.counts.failed + run.counts.filtered).toBe(120);
    expect(run.batches.map((b) => b.size)).toEqual([50, 50, 20]);
    expect(run.nodeCounts['erp-write']).toEqual({
      in: 120,
      out: run.counts.succeeded,
      error: run.counts.failed,
      filtered: 0,
    });

    const failed = (await (
      await app.request(`/api/runs/${runId}/records?status=failed&limit=3`)
    ).json()) as Page<RecordOutcomeView>;
    expect(failed.items).toHaveLength(3);
    expect(failed.items.every((r) => r.status === 'failed' && r.error?.message.startsWith('HTTP 422'))).toBe(true);
    const next = (await (
      await app.request(`/api/runs/${runId}/records?status=failed&limit=3&cursor=${failed.nextCursor}`)
    ).json()) as Page<RecordOutcomeView>;
    expect(next.items[0]!.seq).toBeGreaterThan(failed.items[2]!.seq);

    const again = (await (await app.request(`/api/flows/${id}/runs`, { method: 'POST' })).json()) as { runId: string };
    await runner.wait(again.runId);
    const key = failed.items[0]!.key;
    const history = (await (await app.request(`/api/flows/${id}/records/${key}`)).json()) as {
      items: RecordOutcomeView[];
    };
    expect(history.items.map((h) => [h.runId, h.status])).toEqual([
      [again.runId, 'failed'],
      [runId, 'failed'],
    ]);
    // no history: an empty list for a flow that exists, 404 naming the flow for one that does not
    const none = await app.request(`/api/flows/${id}/records/never-seen`);
    expect(none.status).toBe(200);
    expect(((await none.json()) as { items: unknown[] }).items).toEqual([]);
    const missing = await app.request(`/api/flows/flow_missing/records/${key}`);
    expect(missing.status).toBe(404);
    expect(JSON.stringify(await missing.json())).toContain('flow_missing');
    const runs = (await (await app.request(`/api/runs?flowId=${id}`)).json()) as Page<{ id: string }>;
    expect(runs.items.map((r) => r.id)).toEqual([again.runId, runId]);
  });

  it('cancels a queued or running run, and refuses to cancel a finished one', async () => {
    const { id } = (await (await app.request('/api/flows', json('POST', demo()))).json()) as FlowDetail;
    const { runId } = (await (await app.request(`/api/flows/${id}/runs`, { method: 'POST' })).json()) as {
      runId: string;
    };
    const cancel = await app.request(`/api/runs/${runId}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(202);
    const result = await runner.wait(runId);
    expect(result.status).toBe('cancelled');
    const again = await app.request(`/api/runs/${runId}/cancel`, { method: 'POST' });
    expect(again.status).toBe(409);
  });
});

describe('run control and retries through the API', () => {
  const post = (path: string, body?: unknown) =>
    app.request(path, body === undefined ? { method: 'POST' } : json('POST', body));

  it('pauses and resumes a run, and refuses to pause one that has finished', async () => {
    const { id } = (await (await app.request('/api/flows', json('POST', demo()))).json()) as FlowDetail;
    const { runId } = (await (await post(`/api/flows/${id}/runs`)).json()) as { runId: string };
    const detail = async () => (await (await app.request(`/api/runs/${runId}`)).json()) as RunDetail;
    for (let i = 0; i < 100 && (await detail()).status !== 'running'; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await post(`/api/runs/${runId}/pause`)).status).toBe(202);
    // accepted: the run pauses at its next record boundary, and its stored status says so soon after
    await expect.poll(async () => (await detail()).status, { timeout: 5000 }).toBe('paused');
    const readAtPause = (await detail()).counts.read;
    await new Promise((r) => setTimeout(r, 600));
    expect((await detail()).counts.read).toBeLessThanOrEqual(readAtPause + 100);
    expect((await post(`/api/runs/${runId}/pause`)).status).toBe(409);
    expect((await post(`/api/runs/${runId}/resume`)).status).toBe(202);
    const result = await runner.wait(runId);
    expect(result.status).toBe('succeeded');
    expect(result.counts.read).toBe(120);
    const again = await post(`/api/runs/${runId}/pause`);
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { message: string } }).error.message).toMatch(/it is succeeded/);
  });

  it('retries only the failed records, on the original version or on the current one once fixed', async () => {
    const records = [1, 2, 'three', 4, null].map((v, i) => ({ key: `k${i}`, amount: v }));
    const flow = (expression: string) => ({
      format: 1,
      name: 'Amounts',
      nodes: [
        { id: 'start', type: 'manual' },
        { id: 'src', type: 'inline-records', params: { records, keyField: 'key' } },
        { id: 'double', type: 'map', params: { fields: [{ name: 'double', expression }] } },
        { id: 'out', type: 'collect' },
      ],
      edges: [
        { source: 'start', target: 'src' },
        { source: 'src', target: 'double' },
        { source: 'double', target: 'out' },
      ],
    });
    const strict = '$type(amount) = "number" ? amount * 2 : $error("amount is not a number: " & $string(amount))';
    const { id } = (await (await app.request('/api/flows', json('POST', flow(strict)))).json()) as FlowDetail;
    const { runId } = (await (await post(`/api/flows/${id}/runs`)).json()) as { runId: string };
    const first = await runner.wait(runId);
    expect(first.counts).toMatchObject({ read: 5, succeeded: 3, failed: 2 });

    const original = (await (await post(`/api/runs/${runId}/retry`, { version: 'original' })).json()) as {
      runId: string;
    };
    const same = await runner.wait(original.runId);
    expect(same.counts).toMatchObject({ read: 2, succeeded: 0, failed: 2 });

    await app.request(`/api/flows/${id}`, json('PUT', flow('$type(amount) = "number" ? amount * 2 : 0')));
    const current = await post(`/api/runs/${runId}/retry`, { version: 'current' });
    expect(current.status).toBe(202);
    const { runId: fixedId } = (await current.json()) as { runId: string };
    const fixed = await runner.wait(fixedId);
    expect(fixed.counts).toMatchObject({ read: 2, succeeded: 2, failed: 0 });
    const detail = (await (await app.request(`/api/runs/${fixedId}`)).json()) as RunDetail;
    expect(detail).toMatchObject({ retryOf: runId, trigger: 'retry', flowVersion: 2 });
    const collected = (await (await app.request(`/api/runs/${fixedId}/collected`)).json()) as Page<{
      key: string;
      data: unknown;
    }>;
    expect(collected.items.map((c) => [c.key, c.data])).toEqual([
      ['k2', { key: 'k2', amount: 'three', double: 0 }],
      ['k4', { key: 'k4', amount: null, double: 0 }],
    ]);
    const history = (await (await app.request(`/api/flows/${id}/records/k2`)).json()) as { items: RecordOutcomeView[] };
    expect(history.items.map((h) => [h.runId, h.status])).toEqual([
      [fixedId, 'succeeded'],
      [original.runId, 'failed'],
      [runId, 'failed'],
    ]);

    expect((await post(`/api/runs/${fixedId}/retry`)).status).toBe(409);
    expect((await post(`/api/runs/${runId}/retry`, { version: 'newest' })).status).toBe(400);
  });
});
