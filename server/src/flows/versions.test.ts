import type { FlowDetail, FlowVersionSummary, RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestSluice, type TestSluice } from '../http/test-support.js';

let t: TestSluice;
const body = (method: string, value: unknown) => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});
const flowDoc = (records: number, extra: Record<string, unknown>[] = []) => ({
  format: 1,
  name: 'Versions',
  nodes: [
    { id: 'start', type: 'manual' },
    ...extra,
    {
      id: 'src',
      type: 'inline-records',
      params: { records: Array.from({ length: records }, (_, i) => ({ k: `r${i}` })), keyField: 'k' },
    },
    { id: 'out', type: 'collect' },
  ],
  edges: [
    { source: 'start', target: 'src' },
    { source: 'src', target: 'out' },
  ],
});

beforeAll(async () => {
  t = await openTestSluice();
});
afterAll(() => t.close());

describe('flow versions', () => {
  it('keeps every save as a version, publishes one, and pins each run to the version it started with', async () => {
    const created = (await (await t.app.request('/api/flows', body('POST', flowDoc(1)))).json()) as FlowDetail;
    expect(created).toMatchObject({ version: 1, latestVersion: 1, publishedVersion: null, enabled: true });
    await t.app.request(`/api/flows/${created.id}`, body('PUT', flowDoc(2)));
    await t.app.request(`/api/flows/${created.id}`, body('PUT', flowDoc(3)));

    const published = await t.app.request(`/api/flows/${created.id}/publish`, body('POST', { version: 2 }));
    expect(published.status).toBe(200);
    expect(await published.json()).toMatchObject({ version: 2, publishedVersion: 2, latestVersion: 3 });
    const versions = (await (await t.app.request(`/api/flows/${created.id}/versions`)).json()) as {
      items: FlowVersionSummary[];
    };
    expect(versions.items.map((v) => [v.version, v.published, v.errors])).toEqual([
      [3, false, 0],
      [2, true, 0],
      [1, false, 0],
    ]);

    const start = async (version: unknown) => {
      const res = await t.app.request(`/api/flows/${created.id}/runs`, body('POST', { version }));
      expect(res.status).toBe(202);
      const { runId } = (await res.json()) as { runId: string };
      await t.parts.runner.wait(runId);
      return (await (await t.app.request(`/api/runs/${runId}`)).json()) as RunDetail;
    };
    expect(await start('latest')).toMatchObject({ flowVersion: 3, counts: { read: 3 } });
    expect(await start('published')).toMatchObject({ flowVersion: 2, counts: { read: 2 } });
    expect(await start(1)).toMatchObject({ flowVersion: 1, counts: { read: 1 } });

    // a later save does not change what a stored run points at
    await t.app.request(`/api/flows/${created.id}`, body('PUT', flowDoc(9)));
    const old = (await (await t.app.request(`/api/flows/${created.id}?version=2`)).json()) as FlowDetail;
    expect(old.document.nodes.find((n) => n.id === 'src')?.params.records).toHaveLength(2);
    expect((await t.app.request(`/api/flows/${created.id}?version=99`)).status).toBe(404);
  });

  it('refuses to publish or run a version with errors, and says which field', async () => {
    const created = (await (await t.app.request('/api/flows', body('POST', flowDoc(1)))).json()) as FlowDetail;
    const broken = flowDoc(1, [
      { id: 'when', type: 'schedule', params: { cron: '61 * * * *', timezone: 'Mars/Base' } },
    ]);
    const saved = (await (await t.app.request(`/api/flows/${created.id}`, body('PUT', broken))).json()) as FlowDetail;
    expect(saved.problems.map((p) => p.path)).toContain('nodes[1].params.cron');
    const publish = await t.app.request(`/api/flows/${created.id}/publish`, body('POST', {}));
    expect(publish.status).toBe(422);
    const error = ((await publish.json()) as { error: { message: string; path: string } }).error;
    expect(error.path).toBe('nodes[1].params.cron');
    expect(error.message).toContain('Invalid value for minute');
    expect((await t.app.request(`/api/flows/${created.id}/runs`, { method: 'POST' })).status).toBe(422);
    const unpublished = await t.app.request(`/api/flows/${created.id}/runs`, body('POST', { version: 'published' }));
    expect(unpublished.status).toBe(409);
    expect((await t.app.request(`/api/flows/${created.id}/publish`, body('POST', { version: 1 }))).status).toBe(200);
    const badVersion = await t.app.request(`/api/flows/${created.id}/publish`, body('POST', { version: 'two' }));
    expect(badVersion.status).toBe(400);
    expect(((await badVersion.json()) as { error: { path: string } }).error.path).toBe('version');
  });
});

describe('the run queue', () => {
  it('answers 202 at once and keeps runs of one flow within its limit, the rest waiting queued', async () => {
    const limited = await openTestSluice({ perFlow: 1 });
    try {
      const slow = {
        format: 1,
        name: 'Slow',
        nodes: [
          { id: 'start', type: 'manual' },
          { id: 'src', type: 'generate', params: { count: 30 } },
          { id: 'batch', type: 'batch', params: { size: 10 } },
          { id: 'wait', type: 'delay', params: { ms: 150 } },
          { id: 'out', type: 'collect' },
        ],
        edges: [
          { source: 'start', target: 'src' },
          { source: 'src', target: 'batch' },
          { source: 'batch', target: 'wait' },
          { source: 'wait', target: 'out' },
        ],
      };
      const a = (await (await limited.app.request('/api/flows', body('POST', slow))).json()) as FlowDetail;
      const b = (await (
        await limited.app.request('/api/flows', body('POST', { ...slow, name: 'Other' }))
      ).json()) as FlowDetail;
      const start = async (id: string) =>
        ((await (await limited.app.request(`/api/flows/${id}/runs`, { method: 'POST' })).json()) as { runId: string })
          .runId;
      const runs = [await start(a.id), await start(a.id), await start(a.id), await start(b.id)];
      const statuses = async () => Promise.all(runs.map(async (id) => (await limited.parts.runs.get(id)).status));
      let maxRunningOfA = 0;
      let sawOtherFlowAlongside = false;
      while ((await statuses()).some((s) => s === 'queued' || s === 'running')) {
        const s = await statuses();
        maxRunningOfA = Math.max(maxRunningOfA, s.slice(0, 3).filter((x) => x === 'running').length);
        if (s[3] === 'running' && s.slice(0, 3).includes('running')) sawOtherFlowAlongside = true;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(await statuses()).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
      expect(maxRunningOfA).toBe(1);
      expect(sawOtherFlowAlongside).toBe(true);
      const started = await Promise.all(runs.slice(0, 3).map((id) => limited.parts.runs.get(id)));
      for (let i = 1; i < 3; i++) {
        expect(Date.parse(started[i]?.startedAt as string)).toBeGreaterThanOrEqual(
          Date.parse(started[i - 1]?.finishedAt as string),
        );
      }
    } finally {
      await limited.close();
    }
  });
});
