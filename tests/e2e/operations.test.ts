import { type FlowDetail, isFinalRunStatus, type RunDetail } from '@sluice/shared';
import { beforeAll, describe, expect, it } from 'vitest';
import { engineFlow } from '../bench/load.js';
import { pgDeployment } from '../support/deployment.js';
import { api, authHeader, eventually, type RunningServer } from '../support/server.js';

/**
 * Metrics and readiness as processes serve them: an API process (`sluice serve --no-worker`, with
 * SLUICE_METRICS_PUBLIC=1) and a worker (`sluice worker`, its health port) on one PostgreSQL
 * database. Each process serves its own metrics.
 */

const deployment = pgDeployment();
let apiProcess: RunningServer;
let worker: RunningServer;
beforeAll(async () => {
  const sandbox = await deployment.sandbox(10);
  apiProcess = await deployment.apiOnly(deployment.env(sandbox.url, { SLUICE_METRICS_PUBLIC: '1' }));
  worker = await deployment.worker(deployment.env(sandbox.url));
}, 120_000);

/** A sample's value in exposition text; undefined when there is no such line. */
function sample(text: string, line: RegExp): number | undefined {
  const m = new RegExp(`^${line.source} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

describe('operations endpoints of each process', () => {
  it('the API process is ready once its scheduler ticks, and serves /metrics without a token when public', async () => {
    const ready = await eventually(async () => {
      const res = await fetch(`${apiProcess.url}/api/ready`);
      return res.status === 200 ? ((await res.json()) as { checks: Record<string, { detail: string }> }) : undefined;
    }, 30_000);
    expect(ready.checks.scheduler?.detail).toMatch(/^ticked \d+ ms ago$/);
    expect(ready.checks.writer?.detail).toBe('writes through the pool');
    const metrics = await fetch(`${apiProcess.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await metrics.text();
    expect(text).toContain('# TYPE sluice_runs_finished_total counter');
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
  });

  it("a worker's health port answers /ready, and /metrics only with a token; the runs it executes are in its metrics", async () => {
    const ready = await fetch(`${worker.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: {
        database: { ready: true },
        migrations: { ready: true },
        writer: { ready: true },
        scheduler: { ready: true, detail: 'this process runs no schedules' },
      },
    });
    const closed = await fetch(`${worker.url}/metrics`);
    expect(closed.status).toBe(401);
    expect(((await closed.json()) as { error: { path: string } }).error.path).toBe('Authorization');

    const flow = await api<FlowDetail>(`${apiProcess.url}/api/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...engineFlow(500), name: 'Counted by its worker' }),
    });
    const { runId } = await api<{ runId: string }>(`${apiProcess.url}/api/flows/${flow.id}/runs`, { method: 'POST' });
    const run = await eventually(async () => {
      const r = await api<RunDetail>(`${apiProcess.url}/api/runs/${runId}`);
      return isFinalRunStatus(r.status) ? r : undefined;
    });
    expect(run.status).toBe('succeeded');

    const res = await fetch(`${worker.url}/metrics`, { headers: authHeader });
    expect(res.status).toBe(200);
    const text = await res.text();
    const flowLabel = `flow="${flow.id}"`;
    expect(sample(text, new RegExp(`sluice_runs_finished_total\\{${flowLabel},status="succeeded"\\}`))).toBe(1);
    expect(sample(text, new RegExp(`sluice_runs_started_total\\{${flowLabel},trigger="api"\\}`))).toBe(1);
    expect(sample(text, new RegExp(`sluice_records_total\\{${flowLabel},node="out",outcome="succeeded"\\}`))).toBe(
      run.nodeCounts.out?.out,
    );
    // the API process queued the run but did not execute it: its own metrics do not count it
    const apiText = await (await fetch(`${apiProcess.url}/metrics`)).text();
    expect(apiText).not.toContain(flowLabel);
    // the queue is the database's, the same from every process
    expect(sample(apiText, /sluice_queue_runs\{state="queued"\}/)).toBe(0);
    expect(sample(text, /sluice_queue_runs\{state="running"\}/)).toBe(0);
  });
});
