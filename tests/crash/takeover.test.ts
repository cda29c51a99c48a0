import { randomBytes } from 'node:crypto';
import { type FlowDetail, isFinalRunStatus, type RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../server/src/storage/postgres/db.js';
import { createTestDatabase, type TestDatabase } from '../../server/src/storage/postgres/test-database.js';
import { api, eventually, logLines, type RunningServer, startCli, startSandboxProcess } from '../support/server.js';
import { crashFlow, type ErpStats } from './scenario.js';

/**
 * Runs taken over between processes on one PostgreSQL database: the worker executing a run killed
 * with SIGKILL, again and again. Another worker goes on with the run each time; nothing is lost,
 * nothing is stored or written to the ERP twice.
 */

/** Kills are a parameter, as in the single-process crash test. */
const KILLS = Number(process.env.SLUICE_CRASH_KILLS ?? 5);
/**
 * Work orders in the crash run: the single-process crash test's 20,000, long enough that the run is
 * still going at every kill (each kill stops it for up to a lease, 15 s).
 */
const RECORDS = 20_000;
const WORKERS = 3;
const API_READY = /Open (http:\/\/[^\s/#]+)/;
const WORKER_READY = /health: +(http:\/\/\S+)\/health/;

let database: TestDatabase | undefined;
const started: RunningServer[] = [];
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  for (const p of started) await p.stop();
  await database?.drop();
});

/** The API process, `WORKERS` workers and the sandbox systems serving `records` work orders. */
async function startProcesses(records: number) {
  if (!database) throw new Error('the test database is created before the tests');
  const sandbox = await startSandboxProcess(records);
  started.push(sandbox);
  const env = {
    SLUICE_DATABASE_URL: database.url,
    SLUICE_SANDBOX_URL: sandbox.url,
    SLUICE_SECRET_KEY: randomBytes(32).toString('hex'),
    SLUICE_LOG_LEVEL: 'info',
  };
  const apiProcess = await startCli(['serve', '--no-worker'], API_READY, env);
  started.push(apiProcess);
  const startWorker = async () => {
    const w = await startCli(['worker'], WORKER_READY, env);
    started.push(w);
    return w;
  };
  const workers = await Promise.all(Array.from({ length: WORKERS }, startWorker));
  return { sandbox, apiProcess, workers, startWorker };
}

async function startRun(apiUrl: string, name: string): Promise<string> {
  const flow = await api<FlowDetail>(`${apiUrl}/api/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...crashFlow, name }),
  });
  return (await api<{ runId: string }>(`${apiUrl}/api/flows/${flow.id}/runs`, { method: 'POST' })).runId;
}

const settled = (r: RunDetail) => r.counts.succeeded + r.counts.failed + r.counts.filtered + r.counts.cancelled;

/** How many runs a worker says it executes; null when it does not answer (stopped, or gone). */
async function runsOf(w: RunningServer): Promise<number | null> {
  try {
    const res = await fetch(`${w.url}/health`, { signal: AbortSignal.timeout(1000) });
    return ((await res.json()) as { runs: number }).runs;
  } catch {
    return null;
  }
}

/** The worker executing the (one) run, by its health port. */
const holderOf = (workers: RunningServer[]) =>
  eventually(async () => {
    for (const w of workers) if ((await runsOf(w)) === 1) return w;
    return undefined;
  }, 30_000);

/** Waits until the run's stored progress passes `after` (or the run has ended), returning it. */
const progressed = (apiUrl: string, runId: string, after: number, ms = 45_000) =>
  eventually(
    async () => {
      const r = await api<RunDetail>(`${apiUrl}/api/runs/${runId}`);
      return settled(r) > after || isFinalRunStatus(r.status) ? r : undefined;
    },
    ms,
    100,
  );

const finished = (apiUrl: string, runId: string) =>
  eventually(
    async () => {
      const r = await api<RunDetail>(`${apiUrl}/api/runs/${runId}`);
      return isFinalRunStatus(r.status) ? r : undefined;
    },
    120_000,
    250,
  );

/** What the database holds for the run: every packed outcome counted, so one stored twice shows. */
async function stored(runId: string) {
  if (!database) throw new Error('the test database is created before the tests');
  const db = await openPostgres(database.url);
  try {
    const q = async (sql: string) => (await db.$client.query(sql, [Number(runId)])).rows[0];
    return {
      outcomes: Number((await q('SELECT COALESCE(SUM(count), 0) AS n FROM outcome_packs WHERE run_id = $1')).n),
      ...(await q(
        `SELECT COUNT(*)::int AS rows, COUNT(DISTINCT key)::int AS keys, MIN(seq)::int AS lo, MAX(seq)::int AS hi
           FROM outcome_keys WHERE run_id = $1`,
      )),
      batches: await q('SELECT COUNT(*)::int AS n, SUM(size)::int AS records FROM batches WHERE run_id = $1'),
    };
  } finally {
    await db.$client.end();
  }
}

/** The run's end: succeeded, each record stored once, each good work order written once. */
async function expectAccountedFor(final: RunDetail, records: number, erpUrl: string) {
  expect(final.error ?? null).toBeNull();
  expect(final.status).toBe('succeeded');
  const { read, succeeded, failed, filtered, cancelled } = final.counts;
  expect(read).toBe(records);
  expect(succeeded + failed + filtered + cancelled).toBe(records);
  expect(cancelled).toBe(0);
  expect(final.nodeCounts.erp).toEqual({ in: records, out: succeeded, error: failed, filtered: 0 });
  expect(await stored(final.id)).toEqual({
    outcomes: records,
    rows: records,
    keys: records,
    lo: 0,
    hi: records - 1,
    batches: { n: records / 50, records },
  });
  const erp = await api<ErpStats>(`${erpUrl}/erp/_sandbox/stats`);
  const twice = Object.values(erp.writes).filter((n) => n > 1).length;
  expect(twice, 'work orders the ERP received twice').toBe(0);
  expect(Object.keys(erp.writes)).toHaveLength(succeeded);
  expect(Object.keys(erp.rejections)).toHaveLength(failed);
  return erp;
}

const logged = (p: RunningServer, runId: string, msg: (m: string) => boolean) =>
  logLines(p.output()).filter((l) => l.runId === runId && typeof l.msg === 'string' && msg(l.msg)).length;

describe(`${WORKERS} sluice worker processes on one PostgreSQL database`, () => {
  it(`SIGKILL of the worker executing a ${RECORDS}-record run, ${KILLS} times: another takes it over each time`, async () => {
    const { sandbox, apiProcess, workers, startWorker } = await startProcesses(RECORDS);
    const runId = await startRun(apiProcess.url, 'Takeover test: work orders → ERP');
    const all = [...workers];

    const progress: number[] = [];
    const takeoverMs: number[] = [];
    let last = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      // the run has made progress since it started or was taken over
      const before = await progressed(apiProcess.url, runId, last);
      if (before.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 1000));
      const holder = await holderOf(workers);
      await holder.crash();
      const killedAt = Date.now();
      const atKill = await api<RunDetail>(`${apiProcess.url}/api/runs/${runId}`);
      if (atKill.status !== 'running') break;
      progress.push(settled(atKill));
      // a replacement keeps three workers alive; any of them may take the run over
      workers.splice(workers.indexOf(holder), 1);
      const replacement = startWorker();
      const next = await progressed(apiProcess.url, runId, settled(atKill));
      takeoverMs.push(Date.now() - killedAt);
      last = settled(next);
      const w = await replacement;
      workers.push(w);
      all.push(w);
    }

    const final = await finished(apiProcess.url, runId);
    console.log(
      `takeover test: ${progress.length} kills at ${progress.join(', ')} settled records; ` +
        `kill → the run's next stored progress: ${takeoverMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}`,
    );
    expect(progress, 'the run was still going at every kill').toHaveLength(KILLS);
    // the lease (15 s) runs out, a scan (every 2 s) claims the run, its next batch is stored
    for (const ms of takeoverMs) expect(ms).toBeLessThan(30_000);
    const erp = await expectAccountedFor(final, RECORDS, sandbox.url);
    // each takeover resumed the run from its checkpoint, in one of the workers
    expect(all.reduce((n, w) => n + logged(w, runId, (m) => m.startsWith('resuming the run from')), 0)).toBe(KILLS);
    console.log(
      `takeover test: ${RECORDS} records, ${final.counts.succeeded} written once, ${final.counts.failed} rejected, ` +
        `${erp.replays} replayed writes answered from the idempotency log, 0 lost, 0 duplicated`,
    );
    for (const p of [...workers, apiProcess, sandbox]) await p.stop();
  }, 150_000);
});
