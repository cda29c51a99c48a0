import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type FlowDetail, isFinalRunStatus, type RunDetail } from '@sluice/shared';
import { beforeAll, describe, expect, it } from 'vitest';
import { engineFlow } from '../bench/load.js';
import { pgDeployment, startedBy } from '../support/deployment.js';
import { api, authHeader, eventually, logLines, REPO_ROOT, type RunningServer } from '../support/server.js';

/**
 * The process roles on one PostgreSQL database: an API process that executes nothing, workers that
 * execute what it queues, and the sandbox systems once for all of them.
 */

/** Flows, and runs of each, queued at once. */
const FLOWS = 5;
const RUNS_PER_FLOW = 6;

const deployment = pgDeployment();
let apiProcess: RunningServer;
let workers: RunningServer[] = [];
let sandbox: RunningServer;
beforeAll(async () => {
  sandbox = await deployment.sandbox(50);
  // runs of one flow may execute at once, so every worker can take some
  const env = deployment.env(sandbox.url, { SLUICE_FLOW_CONCURRENCY: '4' });
  // the API process first: it applies the migrations and seeds the demo flow
  apiProcess = await deployment.apiOnly(env);
  workers = await Promise.all([0, 1, 2].map(() => deployment.worker(env)));
}, 120_000);

interface Health {
  status: string;
  role: string;
  runs: number;
  owner: string;
}

const health = async (w: RunningServer) => {
  const res = await fetch(`${w.url}/health`);
  expect(res.status).toBe(200);
  return (await res.json()) as Health;
};

const createFlow = (document: unknown, name: string) =>
  api<FlowDetail>(`${apiProcess.url}/api/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...(document as object), name }),
  });

const startRun = async (flowId: string) =>
  (await api<{ runId: string }>(`${apiProcess.url}/api/flows/${flowId}/runs`, { method: 'POST' })).runId;

const getRun = (id: string) => api<RunDetail>(`${apiProcess.url}/api/runs/${id}`);

const control = (id: string, verb: 'pause' | 'resume' | 'cancel') =>
  fetch(`${apiProcess.url}/api/runs/${id}/${verb}`, { method: 'POST', headers: authHeader });

describe('sluice serve --no-worker with three sluice worker processes on one PostgreSQL database', () => {
  it('30 runs queued across 5 flows: each executed by exactly one worker (recorded on the run), all succeed, accounting adds up', async () => {
    const healths = await Promise.all(workers.map(health));
    for (const h of healths) expect(h).toMatchObject({ status: 'ok', role: 'worker', runs: expect.any(Number) });
    const owners = healths.map((h) => h.owner);
    expect(new Set(owners).size).toBe(3);
    // a worker serves no API
    expect((await fetch(`${workers[0]?.url}/api/flows`)).status).toBe(404);

    // generate → batch → map → filter → collect, a different size per flow
    const sizes = [300, 500, 700, 900, 1100];
    const flows = await Promise.all(
      sizes.slice(0, FLOWS).map((n, i) => createFlow(engineFlow(n), `Processes ${i + 1} (${n} records)`)),
    );
    const queued: { runId: string; records: number }[] = [];
    for (let r = 0; r < RUNS_PER_FLOW; r++)
      for (const [i, flow] of flows.entries()) queued.push({ runId: await startRun(flow.id), records: sizes[i] ?? 0 });
    expect(queued).toHaveLength(30);

    const runs = await Promise.all(
      queued.map(({ runId }) =>
        eventually(async () => {
          const r = await getRun(runId);
          return isFinalRunStatus(r.status) ? r : undefined;
        }, 120_000),
      ),
    );
    for (const [i, run] of runs.entries()) {
      const records = queued[i]?.records ?? 0;
      expect(run.error ?? null).toBeNull();
      expect(run.status).toBe('succeeded');
      // every tenth record is filtered out (group 0); nothing failed, nothing cancelled
      expect(run.counts).toEqual({
        read: records,
        succeeded: records * 0.9,
        filtered: records * 0.1,
        failed: 0,
        cancelled: 0,
      });
      // taken up once, by a worker, which the run records
      expect(run.claims).toBe(1);
      expect(owners).toContain(run.executor);
    }
    // the API process claimed none; each run was started by the worker the run names, and by no other
    expect(startedBy(apiProcess)).toEqual([]);
    const byWorker = workers.map((w) => startedBy(w));
    expect(byWorker.flat().sort()).toEqual(queued.map((q) => q.runId).sort());
    for (const [i, run] of runs.entries()) {
      const w = owners.indexOf(run.executor as string);
      expect(byWorker[w]).toContain(queued[i]?.runId);
    }
    // the work was shared: every worker executed some of it
    for (const started of byWorker) expect(started.length).toBeGreaterThan(0);
    // their runs done, each worker says so
    for (const w of workers) expect((await health(w)).runs).toBe(0);
  }, 180_000);

  it('pauses, resumes and cancels through the API process a run a worker executes', async () => {
    // 40 batches of 10 records, 300 ms apart: about 12 s unless paused
    const document = engineFlow(400, 300);
    document.nodes = document.nodes.map((n) => (n.id === 'batch' ? { ...n, params: { size: 10 } } : n));
    const flow = await createFlow(document, 'Processes: controlled');
    const runId = await startRun(flow.id);
    const running = await eventually(async () => {
      const r = await getRun(runId);
      return r.status === 'running' && r.counts.read > 0 ? r : undefined;
    }, 30_000);
    const executor = workers.find((w) => startedBy(w).includes(runId)) as RunningServer;
    expect(running.executor).toBe((await health(executor)).owner);

    const asked = Date.now();
    expect((await control(runId, 'pause')).status).toBe(202);
    await eventually(async () => ((await getRun(runId)).status === 'paused' ? true : undefined), 5_000, 50);
    const pausedIn = Date.now() - asked;
    // records settled (the source reads ahead of the batches, so `read` runs ahead of them)
    const settled = (r: RunDetail) => r.counts.succeeded + r.counts.filtered + r.counts.failed;
    const atPause = settled(await getRun(runId));
    await new Promise((r) => setTimeout(r, 1500));
    // paused: no more batches (one already under way may still settle)
    expect(settled(await getRun(runId))).toBeLessThanOrEqual(atPause + 10);
    expect(
      logLines(executor.output()).some((l) => l.runId === runId && l.msg === 'pause asked by another process'),
    ).toBe(true);
    // a second pause is refused: the run is paused
    expect((await control(runId, 'pause')).status).toBe(409);

    expect((await control(runId, 'resume')).status).toBe(202);
    await eventually(async () => {
      const r = await getRun(runId);
      return r.status === 'running' && settled(r) > atPause + 10 ? true : undefined;
    }, 10_000);

    expect((await control(runId, 'cancel')).status).toBe(202);
    const cancelled = await eventually(
      async () => {
        const r = await getRun(runId);
        return isFinalRunStatus(r.status) ? r : undefined;
      },
      5_000,
      50,
    );
    expect(cancelled.status).toBe('cancelled');
    const { read, succeeded, filtered, failed, cancelled: dropped } = cancelled.counts;
    expect(succeeded + filtered + failed).toBeLessThan(400);
    expect(dropped).toBeGreaterThan(0);
    expect(succeeded + filtered + failed + dropped).toBe(read);
    // still the one worker's run: no other process took it up
    expect(cancelled.claims).toBe(1);
    expect((await control(runId, 'cancel')).status).toBe(409);
    // asked through the database and its news: well within a second each, not at the next lease renewal
    expect(pausedIn).toBeLessThan(3_000);
  }, 90_000);

  it('each process stops with exit code 0', async () => {
    for (const p of [...workers, apiProcess, sandbox]) {
      await p.stop();
      expect(p.exitCode()).toBe(0);
    }
  }, 60_000);
});

describe('a role SQLite cannot have', () => {
  it.each([
    { args: ['worker'], name: 'sluice worker' },
    { args: ['serve', '--no-worker'], name: 'sluice serve --no-worker' },
  ])('$name without SLUICE_DATABASE_URL is refused with one line and exit code 2', async ({ args, name }) => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sluice-e2e-'));
    try {
      const { code, stdout, stderr } = await runCli(args, { SLUICE_DATA_DIR: dataDir, SLUICE_DATABASE_URL: '' });
      expect(code).toBe(2);
      expect(stdout).toBe('');
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]?.startsWith(`${name} needs SLUICE_DATABASE_URL `)).toBe(true);
      expect(lines[0]).toMatch(/one process/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

async function runCli(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/cli/main.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += String(d);
  });
  child.stderr.on('data', (d) => {
    stderr += String(d);
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}
