import type { FlowDetail, Operations } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { engineFlow } from '../bench/load.js';
import { pgDeployment } from '../support/deployment.js';
import { api, eventually, type RunningServer } from '../support/server.js';

/**
 * The operations view with several processes on one PostgreSQL database: an API process that
 * executes nothing and two workers. It lists every process's runs with the worker executing each.
 */

const deployment = pgDeployment();

const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

describe('GET /api/operations with sluice serve --no-worker and two sluice worker processes', () => {
  it('shows a run queued while no worker runs, then each run under the worker that executes it', async () => {
    const sandbox = await deployment.sandbox(50);
    const env = deployment.env(sandbox.url, { SLUICE_FLOW_CONCURRENCY: '4' });
    const apiProcess = await deployment.apiOnly(env);
    const ops = () => api<Operations>(`${apiProcess.url}/api/operations`);
    // 30 batches, 300 ms apart: long enough to be seen running
    const flow = await api<FlowDetail>(`${apiProcess.url}/api/flows`, json(engineFlow(3_000, 300)));
    const runs: string[] = [];
    for (let i = 0; i < 3; i++)
      runs.push((await api<{ runId: string }>(`${apiProcess.url}/api/flows/${flow.id}/runs`, json({}))).runId);

    // no worker yet: the runs wait, claimed by nobody, and this process executes none
    const waiting = await ops();
    expect(waiting.process.executing).toBe(0);
    expect(waiting.runs.map((r) => [r.id, r.status, r.executor]).sort()).toEqual(
      runs.map((id) => [id, 'queued', null]).sort(),
    );

    const workers: RunningServer[] = await Promise.all([deployment.worker(env), deployment.worker(env)]);
    const owners = await Promise.all(
      workers.map(async (w) => ((await (await fetch(`${w.url}/health`)).json()) as { owner: string }).owner),
    );
    const running = await eventually(async () => {
      const o = await ops();
      return o.runs.length === 3 && o.runs.every((r) => r.status === 'running') ? o : undefined;
    }, 60_000);
    // each run under a worker's executor, none under the API process, which still executes nothing
    expect(running.process.executing).toBe(0);
    for (const r of running.runs) {
      expect(owners).toContain(r.executor);
      expect(r.executor).not.toBe(running.process.owner);
      expect(r.claims).toBe(1);
    }
    // what each worker says it executes is what the view lists under it
    const healths = await Promise.all(
      workers.map(async (w) => (await (await fetch(`${w.url}/health`)).json()) as { owner: string; runs: number }),
    );
    for (const h of healths) expect(running.runs.filter((r) => r.executor === h.owner)).toHaveLength(h.runs);

    // once over, they leave the view
    await eventually(async () => ((await ops()).runs.length === 0 ? true : undefined), 120_000, 500);
  }, 240_000);
});
