import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FlowEstimate, RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestSluice, type TestSluice } from '../http/test-support.js';
import { REPO_ROOT } from '../paths.js';

/** `GET /api/flows/{id}/estimate` and a running run's `eta`, against the real app and sandbox. */

let t: TestSluice;
beforeAll(async () => {
  t = await openTestSluice({ workOrders: 120 });
}, 60_000);
afterAll(() => t.close());

const get = async <T>(p: string): Promise<{ status: number; body: T }> => {
  const res = await t.app.request(p);
  return { status: res.status, body: (await res.json()) as T };
};

const example = (file: string) =>
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', file), 'utf8')) as {
    nodes: { id: string; params?: Record<string, unknown> }[];
  };

const post = (p: string, body: unknown) =>
  t.app.request(p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function createFlow(document: unknown): Promise<string> {
  const res = await post('/api/flows', document);
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function runToEnd(flowId: string): Promise<RunDetail> {
  const { runId } = (await (await post(`/api/flows/${flowId}/runs`, {})).json()) as { runId: string };
  await t.parts.runner.wait(runId);
  return (await get<RunDetail>(`/api/runs/${runId}`)).body;
}

const generateFlow = (count: number, batch: number, ms: number) => ({
  format: 1,
  name: `generate ${count}`,
  nodes: [
    { id: 'start', type: 'manual' },
    { id: 'gen', type: 'generate', params: { count, pageSize: 100 } },
    { id: 'batch', type: 'batch', params: { size: batch } },
    { id: 'pause', type: 'delay', params: { ms } },
    { id: 'end', type: 'collect' },
  ],
  edges: [
    { source: 'start', target: 'gen' },
    { source: 'gen', target: 'batch' },
    { source: 'batch', target: 'pause' },
    { source: 'pause', target: 'end' },
  ],
});

describe('GET /api/flows/{id}/estimate', () => {
  it('before any run: the count from the document and the exact waits; the time per record unknown', async () => {
    const id = await createFlow(generateFlow(500, 50, 100));
    const { status, body } = await get<FlowEstimate>(`/api/flows/${id}/estimate`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      flowId: id,
      version: 1,
      records: 500,
      recordsFrom: 'the count set on Generate records',
      batches: 10,
      lowerBoundMs: 900,
      perRecordMs: null,
      measuredRuns: [],
      estimateMs: null,
    });
    expect(body.breakdown.map((p) => [p.kind, p.nodeId, p.known])).toEqual([
      ['records', 'gen', true],
      ['batches', 'batch', true],
      ['delay', 'pause', true],
      ['processing', null, false],
    ]);
  });

  it('after a run: the time per record measured in it, and an estimate within reach of the next run', async () => {
    const id = await createFlow(generateFlow(400, 50, 150));
    const first = await runToEnd(id);
    expect(first.status).toBe('succeeded');
    const { body } = await get<FlowEstimate>(`/api/flows/${id}/estimate`);
    expect(body.measuredRuns).toEqual([first.id]);
    expect(body.perRecordMs).toBeGreaterThan(0);
    expect(body.lowerBoundMs).toBe(7 * 150);
    const actualFirst = Date.parse(first.finishedAt ?? '') - Date.parse(first.startedAt ?? '');
    // the measurement is the exact inverse: the same run's duration comes back
    expect(Math.abs((body.estimateMs ?? 0) - actualFirst)).toBeLessThanOrEqual(1);
    const second = await runToEnd(id);
    const actual = Date.parse(second.finishedAt ?? '') - Date.parse(second.startedAt ?? '');
    // never below the waits the delay imposes
    expect(actual).toBeGreaterThanOrEqual(body.lowerBoundMs ?? 0);
    expect(body.estimateMs).toBeGreaterThanOrEqual(body.lowerBoundMs ?? 0);
  });

  it('an HTTP source: the total its API reports, asked with a page of one record; ?records= wins', async () => {
    const copy = example('work-orders-to-erp.flow.json');
    const pause = copy.nodes.find((n) => n.id === 'pause');
    if (pause?.params) pause.params.ms = 0;
    const id = await createFlow(copy);
    const before = (await get<FlowEstimate>(`/api/flows/${id}/estimate`)).body;
    expect(before).toMatchObject({
      records: 120,
      recordsFrom: 'the total the API reports for /api/eam/work-orders',
      batches: 3,
      estimateMs: null,
    });
    const run = await runToEnd(id);
    expect(run.counts.read).toBe(120);
    const after = (await get<FlowEstimate>(`/api/flows/${id}/estimate`)).body;
    expect(after.measuredRuns).toEqual([run.id]);
    expect(after.estimateMs).toBeGreaterThan(0);
    const given = (await get<FlowEstimate>(`/api/flows/${id}/estimate?records=1000`)).body;
    expect(given).toMatchObject({ records: 1000, recordsFrom: 'the count given', batches: 20 });
  });

  it('an incremental HTTP source: unknown until a run has read it, then at most the last run’s count', async () => {
    const id = await createFlow(example('incremental-work-orders.flow.json'));
    const unknown = (await get<FlowEstimate>(`/api/flows/${id}/estimate`)).body;
    expect(unknown.records).toBeNull();
    expect(unknown.breakdown[0]?.text).toMatch(/^record count unknown: .* run once or set it$/);
    const run = await runToEnd(id);
    const known = (await get<FlowEstimate>(`/api/flows/${id}/estimate`)).body;
    expect(known.records).toBe(run.counts.read);
    expect(known.recordsFrom).toBe(
      `read by run ${run.id}, the last that succeeded (an incremental source reads only what changed since: at most)`,
    );
  });

  it('a file source: the records of its file, less the header, a quoted line break not counted', async () => {
    const dir = path.join(t.dir, 'files', 'in');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'rows.csv'),
      `key,title\n${Array.from({ length: 36 }, (_, i) => `k${i},t${i}`).join('\n')}\nk36,"two\nlines"`,
    );
    const id = await createFlow({
      format: 1,
      name: 'file',
      nodes: [
        { id: 'start', type: 'manual' },
        { id: 'file', type: 'file-source', params: { path: 'in/rows.csv', keyField: 'key' } },
        { id: 'end', type: 'collect' },
      ],
      edges: [
        { source: 'start', target: 'file' },
        { source: 'file', target: 'end' },
      ],
    });
    const { body } = await get<FlowEstimate>(`/api/flows/${id}/estimate`);
    expect(body).toMatchObject({ records: 37, recordsFrom: 'the 37 records in in/rows.csv' });
  });

  it('answers 404 for a flow or version that does not exist, 400 for a bad count', async () => {
    expect((await get('/api/flows/nope/estimate')).status).toBe(404);
    const id = await createFlow(generateFlow(10, 5, 0));
    expect((await get(`/api/flows/${id}/estimate?version=9`)).status).toBe(404);
    expect((await get(`/api/flows/${id}/estimate?records=-1`)).status).toBe(400);
  });
});

describe('eta on a running run', () => {
  it('counts down while the run goes, and is null once it has finished', async () => {
    const id = await createFlow(generateFlow(200, 20, 200));
    await runToEnd(id); // history, so the ETA is known from the first batch
    const { runId } = (await (await post(`/api/flows/${id}/runs`, {})).json()) as { runId: string };
    const seen: NonNullable<RunDetail['eta']>[] = [];
    for (;;) {
      const run = (await get<RunDetail>(`/api/runs/${runId}`)).body;
      if (run.status === 'running' && run.eta) seen.push(run.eta);
      if (run.status === 'succeeded') {
        expect(run.eta).toBeNull();
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(seen.length).toBeGreaterThan(3);
    expect(seen[0]?.records).toBe(200);
    // 10 batches, 9 waits of 200 ms: the first ETA holds most of them
    expect(seen[0]?.remainingMs).toBeGreaterThan(1000);
    expect(seen.at(-1)?.remainingMs).toBeLessThan(seen[0]?.remainingMs ?? 0);
    expect(Date.parse(seen[0]?.at ?? '')).toBeGreaterThan(Date.now() - 10_000);
  }, 30_000);
});
