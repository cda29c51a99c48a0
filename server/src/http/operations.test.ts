import { readFileSync } from 'node:fs';
import type { Operations, RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FLOW_FILE } from '../demo.js';
import { openTestSluice, type TestSluice } from './test-support.js';

let t: TestSluice;

beforeAll(async () => {
  t = await openTestSluice({ workOrders: 300 });
}, 60_000);
afterAll(() => t.close());

async function json<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await t.app.request(path, init);
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${path} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

const post = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

async function until<T>(check: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('GET /api/operations', () => {
  it('shows a run waiting on an open breaker, the breaker open, the schedules and the writer', async () => {
    // the ERP answers every write 503: its connection's breaker opens and the run waits on it
    const faults = await fetch(`${t.parts.sandbox.url}/erp/_sandbox/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ seed: 1, transient: { share: 1, status: 503 } }),
    });
    expect(faults.status).toBe(200);
    const demo = JSON.parse(readFileSync(DEMO_FLOW_FILE, 'utf8'));
    const flow = await json<{ id: string }>('/api/flows', post(demo));
    const { runId } = await json<{ runId: string }>(`/api/flows/${flow.id}/runs`, post({}));
    await until(async () => {
      const run = await json<RunDetail>(`/api/runs/${runId}`);
      return run.waiting?.kind === 'breaker' ? run : undefined;
    });

    // a published flow with a schedule, and one that is not published (its schedule does not fire)
    const scheduled = {
      format: 2,
      name: 'Nightly',
      nodes: [
        { id: 'when', type: 'schedule', params: { cron: '30 2 * * *', timezone: 'Europe/Berlin' } },
        { id: 'src', type: 'inline-records', params: { records: [{ key: 'a' }], keyField: 'key' } },
      ],
      edges: [{ source: 'when', target: 'src' }],
    };
    const nightly = await json<{ id: string }>('/api/flows', post(scheduled));
    await json(`/api/flows/${nightly.id}/publish`, post({}));
    await json('/api/flows', post({ ...scheduled, name: 'Draft only' }));

    const ops = await json<Operations>('/api/operations');
    const run = ops.runs.find((r) => r.id === runId);
    expect(run).toMatchObject({ status: 'running', flowName: demo.name, executor: ops.process.owner });
    expect(run?.waiting).toMatchObject({ kind: 'breaker', connection: 'erp-sandbox' });
    expect(ops.process).toMatchObject({ executing: 1, concurrency: 4 });

    const erp = ops.connections.find((c) => c.name === 'erp-sandbox');
    expect(erp?.builtIn).toBe(true);
    expect(erp?.breaker?.state).toBe('open');
    expect(erp?.breaker?.failures).toBeGreaterThanOrEqual(5);
    expect(Date.parse(erp?.breaker?.openUntil ?? '')).toBeGreaterThan(Date.parse(ops.at));
    expect(erp?.limits).toEqual({ maxConcurrent: null, maxPerSecond: null, adaptive: false });
    expect(erp?.pace).toBeNull();
    // the source's breaker: its requests succeed
    expect(ops.connections.find((c) => c.name === 'maintenance-sandbox')?.breaker).toMatchObject({
      state: 'closed',
      failures: 0,
      openUntil: null,
    });

    expect(ops.schedules).toEqual([
      {
        flowId: nightly.id,
        flowName: 'Nightly',
        nodeId: 'when',
        description: 'At 02:30 (Europe/Berlin)',
        cron: '30 2 * * *',
        timezone: 'Europe/Berlin',
        nextAt: expect.stringMatching(/T0[01]:30:00\.000Z$/),
        lastSlot: null,
        lastRun: null,
      },
    ]);
    expect(ops.writer).toEqual({
      rows: expect.any(Number),
      bytes: expect.any(Number),
      groups: expect.any(Number),
      oldestMs: ops.writer.groups ? expect.any(Number) : null,
    });

    // its slot fired (the scheduler's clock moved on to it): the last result is that slot's run
    const slot = Date.parse(ops.schedules[0]?.nextAt ?? '');
    await t.parts.scheduler.tick(Date.now());
    const fired = await t.parts.scheduler.tick(slot + 1_000);
    expect(fired.map((f) => f.slot)).toEqual([slot]);
    const after = await until(async () => {
      const o = await json<Operations>('/api/operations');
      return o.schedules[0]?.lastRun?.status === 'succeeded' ? o : undefined;
    });
    expect(after.schedules[0]).toMatchObject({
      lastSlot: new Date(slot).toISOString(),
      lastRun: { id: fired[0]?.runId, status: 'succeeded', failed: 0, finishedAt: expect.any(String) },
    });

    // cancelled, it leaves the list
    await json(`/api/runs/${runId}/cancel`, { method: 'POST' });
    await until(async () => ((await json<RunDetail>(`/api/runs/${runId}`)).status === 'cancelled' ? true : undefined));
    expect((await json<Operations>('/api/operations')).runs.map((r) => r.id)).not.toContain(runId);
  }, 60_000);

  it('shows the pace adaptive pacing learnt for a connection beside its limits', async () => {
    const erp = `${t.parts.sandbox.url}/erp`;
    await json(
      '/api/connections',
      post({ name: 'paced-erp', baseUrl: erp, limits: { maxPerSecond: 50, adaptive: true } }),
    );
    const before = await json<Operations>('/api/operations');
    expect(before.connections.find((c) => c.name === 'paced-erp')).toMatchObject({
      builtIn: false,
      breaker: null,
      limits: { maxConcurrent: null, maxPerSecond: 50, adaptive: true },
      pace: null,
    });
    // a request of a run takes a permit and gives it back with the system's answer: a 429
    const permit = await t.parts.limits.acquire('paced-erp', { maxPerSecond: 50, adaptive: true });
    permit.release({ status: 429, ms: 5 });
    const after = await json<Operations>('/api/operations');
    const pace = after.connections.find((c) => c.name === 'paced-erp')?.pace;
    expect(pace?.reason).toBe('throttled');
    expect(pace?.perSecond).toBeGreaterThan(0);
    expect(pace?.perSecond).toBeLessThan(50);
  });
});
