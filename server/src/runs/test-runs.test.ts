import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RunSummary, TestData } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FLOW_FILE } from '../demo.js';
import { openTestSluice, type TestSluice } from '../http/test-support.js';
import { REPO_ROOT } from '../paths.js';
import { sqliteClient } from '../storage/sqlite/index.js';
import { prune, TEST_RUNS_KEPT } from '../storage/sqlite/retention.js';

let t: TestSluice;

beforeAll(async () => {
  t = await openTestSluice({ workOrders: 120 });
});
afterAll(() => t.close());

/** What the loopback ERP has received (the test's sandbox is started here, so it has stats). */
const erpStats = () => {
  const { sandbox } = t.parts;
  if (!('erpStats' in sandbox)) throw new Error('the sandbox systems are not started by this process');
  return sandbox.erpStats();
};

const demo = () => JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', path.basename(DEMO_FLOW_FILE)), 'utf8'));

async function post(p: string, body: unknown): Promise<Response> {
  return t.app.request(p, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function testOf(p: string, body: unknown): Promise<TestData> {
  const res = await post(p, body);
  expect(res.status).toBe(202);
  const { runId } = (await res.json()) as { runId: string };
  const data = await t.app.request(`/api/runs/${runId}/test-data?waitMs=20000`);
  expect(data.status).toBe(200);
  return (await data.json()) as TestData;
}

describe('test runs', () => {
  it('run a draft on its first 20 records without sending writes, and show each node’s data', async () => {
    const before = erpStats();
    const data = await testOf('/api/test', { document: demo() });
    expect(data.status).toBe('succeeded');
    const after = erpStats();
    expect(after.log.length).toBe(before.log.length);
    expect(after.accepted + after.rejected).toBe(before.accepted + before.rejected);
    expect(data.nodes['to-erp-shape']?.input).toHaveLength(20);
    expect(data.nodes['to-erp-shape']?.output).toHaveLength(20);
    const write = data.nodes['erp-write'];
    expect(write?.dryRun).toBe(true);
    expect(write?.output).toHaveLength(20);
    expect(write?.output[0]).toMatchObject({ method: 'POST', headers: { authorization: 'Bearer ••••••' } });
    const run = (await (await t.app.request(`/api/runs/${data.runId}`)).json()) as RunSummary;
    expect(run).toMatchObject({ trigger: 'test', flowId: null, counts: { read: 20 } });
  });

  it('test a saved flow with its draft, from pinned data: the source is not called', async () => {
    const flow = (await (await post('/api/flows', demo())).json()) as { id: string };
    const pinned = { 'work-orders': [{ key: 'WO-P', title: 'Pinned', severity: 'low', estimatedTime: '5' }] };
    const data = await testOf(`/api/flows/${flow.id}/test`, { document: { ...demo(), pinned }, limit: 5 });
    expect(data.nodes['work-orders']?.pinned).toBe(true);
    expect(data.nodes['to-erp-shape']?.output).toEqual([
      expect.objectContaining({ externalKey: 'WO-P', title: 'Pinned' }),
    ]);
  });

  it('are hidden from the run history unless asked for, and pruned first', async () => {
    const flow = (await (await post('/api/flows', demo())).json()) as { id: string };
    const tests: string[] = [];
    for (let i = 0; i < TEST_RUNS_KEPT + 2; i++)
      tests.push((await testOf(`/api/flows/${flow.id}/test`, { limit: 2 })).runId);
    const list = async (q: string) =>
      ((await (await t.app.request(`/api/runs?flowId=${flow.id}${q}`)).json()) as { items: RunSummary[] }).items;
    expect(await list('')).toEqual([]);
    expect((await list('&trigger=test')).map((r) => r.id)).toEqual([...tests].reverse());
    const result = prune(sqliteClient(t.parts.storage), { days: 30, runsPerFlow: 100 });
    expect(result.runs).toBeGreaterThanOrEqual(2);
    const pruned = (await list('&trigger=test')).filter((r) => r.prunedAt !== null).map((r) => r.id);
    expect(pruned.sort()).toEqual(tests.slice(0, 2).sort());
  });

  it('take no run number: the first real run after tests is run 1 of its flow', async () => {
    const flow = (await (await post('/api/flows', demo())).json()) as { id: string };
    const test = await testOf(`/api/flows/${flow.id}/test`, { limit: 2 });
    const started = await post(`/api/flows/${flow.id}/runs`, { trigger: 'manual' });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    const number = async (id: string) =>
      ((await (await t.app.request(`/api/runs/${id}`)).json()) as RunSummary).runNumber;
    expect(await number(test.runId)).toBeNull();
    expect(await number(runId)).toBe(1);
    await t.parts.runner.wait(runId);
  });

  it('a process stopping without cancelling its runs still cancels its tests: nothing could resume them', async () => {
    const own = await openTestSluice();
    try {
      const slow = {
        format: 1,
        name: 'Slow test',
        nodes: [
          { id: 'start', type: 'manual' },
          { id: 'src', type: 'generate', params: { count: 5 } },
          { id: 'b', type: 'batch', params: { size: 1 } },
          { id: 'wait', type: 'delay', params: { ms: 60_000 } },
        ],
        edges: [
          { source: 'start', target: 'src' },
          { source: 'src', target: 'b' },
          { source: 'b', target: 'wait' },
        ],
      };
      const runId = await own.parts.runner.test({ flowId: null, document: slow, limit: 5, sendWrites: false });
      await own.parts.runner.stop({ cancel: false });
      expect((await own.parts.runs.get(runId)).status).toBe('cancelled');
    } finally {
      await own.close();
    }
  });

  it('refuses a document with errors, and a run that is not a test', async () => {
    const res = await post('/api/test', { document: { format: 1, name: 'x', nodes: [{ id: 'a', type: 'nope' }] } });
    expect(res.status).toBe(422);
    const none = await t.app.request('/api/runs/999999/test-data');
    expect(none.status).toBe(404);
  });
});
