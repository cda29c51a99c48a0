import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type FlowDetail, isFinalRunStatus, type RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../server/src/storage/postgres/test-database.js';
import { engineFlow } from '../bench/load.js';
import {
  api,
  eventually,
  logLines,
  REPO_ROOT,
  type RunningServer,
  startCli,
  startSandboxProcess,
} from '../support/server.js';

/**
 * The process roles on one PostgreSQL database: an API process that executes nothing, workers that
 * execute what it queues, and the sandbox systems once for all of them.
 */

const RUNS = 6;
const API_READY = /Open (http:\/\/[^\s/#]+)/;
const WORKER_READY = /health: +(http:\/\/\S+)\/health/;

let database: TestDatabase | undefined;
const processes: RunningServer[] = [];
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  for (const p of processes) await p.stop();
  await database?.drop();
});

interface Health {
  status: string;
  role: string;
  runs: number;
  owner: string;
}

/** The run ids a process's log says it started executing. */
const startedBy = (p: RunningServer) =>
  logLines(p.output())
    .filter((l) => l.msg === 'starting the run')
    .map((l) => l.runId as string);

describe('sluice serve --no-worker with two sluice worker processes on one PostgreSQL database', () => {
  it('the workers execute every run the API process queues; each stops with exit code 0', async () => {
    if (!database) throw new Error('the test database is created before the tests');
    const sandbox = await startSandboxProcess(50);
    processes.push(sandbox);
    const env = {
      SLUICE_DATABASE_URL: database.url,
      SLUICE_SANDBOX_URL: sandbox.url,
      // connection secrets one process stores, another decrypts
      SLUICE_SECRET_KEY: randomBytes(32).toString('hex'),
      // runs of the one flow may execute at once, so both workers can take some
      SLUICE_FLOW_CONCURRENCY: '4',
      SLUICE_LOG_LEVEL: 'info',
    };
    // the API process first: it applies the migrations and seeds the demo flow
    const apiProcess = await startCli(['serve', '--no-worker'], API_READY, env);
    processes.push(apiProcess);
    const workers = await Promise.all([
      startCli(['worker'], WORKER_READY, env),
      startCli(['worker'], WORKER_READY, env),
    ]);
    processes.push(...workers);

    const healths = await Promise.all(
      workers.map(async (w) => {
        const res = await fetch(`${w.url}/health`);
        expect(res.status).toBe(200);
        return (await res.json()) as Health;
      }),
    );
    for (const h of healths) expect(h).toMatchObject({ status: 'ok', role: 'worker', runs: expect.any(Number) });
    expect(healths[0]?.owner).toEqual(expect.any(String));
    expect(healths[0]?.owner).not.toBe(healths[1]?.owner);
    // a worker serves no API
    expect((await fetch(`${workers[0]?.url}/api/flows`)).status).toBe(404);

    const flow = await api<FlowDetail>(`${apiProcess.url}/api/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(engineFlow(300)), // generate → batch → map → filter → collect
    });
    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i++)
      runIds.push(
        (await api<{ runId: string }>(`${apiProcess.url}/api/flows/${flow.id}/runs`, { method: 'POST' })).runId,
      );

    const runs = await Promise.all(
      runIds.map((id) =>
        eventually(async () => {
          const r = await api<RunDetail>(`${apiProcess.url}/api/runs/${id}`);
          return isFinalRunStatus(r.status) ? r : undefined;
        }, 40_000),
      ),
    );
    for (const run of runs) {
      expect(run.error ?? null).toBeNull();
      expect(run.status).toBe('succeeded');
      expect(run.counts).toMatchObject({ read: 300, succeeded: 270, filtered: 30, failed: 0 });
    }
    // the API process claimed none; between them the workers started each run once
    expect(startedBy(apiProcess)).toEqual([]);
    expect([...startedBy(workers[0] as RunningServer), ...startedBy(workers[1] as RunningServer)].sort()).toEqual(
      [...runIds].sort(),
    );
    // their runs done, each worker says so
    for (const w of workers) expect(((await (await fetch(`${w.url}/health`)).json()) as Health).runs).toBe(0);

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
