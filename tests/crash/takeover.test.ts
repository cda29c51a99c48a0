import { type FlowDetail, isFinalRunStatus, type RunDetail } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { openPostgres, type PgDb } from '../../server/src/storage/postgres/db.js';
import { pgDeployment } from '../support/deployment.js';
import { api, eventually, logLines, type RunningServer } from '../support/server.js';
import { crashFlow, type ErpStats } from './scenario.js';

/**
 * Runs taken over between processes on one PostgreSQL database: the worker executing a run killed
 * with SIGKILL, again and again, and the worker executing a run frozen with SIGSTOP past its lease
 * and woken again (a zombie). Another worker goes on with the run each time; nothing is lost,
 * nothing is stored or written to the ERP twice, and a zombie stores nothing once woken.
 */

/** Kills are a parameter, as in the single-process crash test. */
const KILLS = Number(process.env.SLUICE_CRASH_KILLS ?? 5);
/**
 * Work orders in the crash run: the single-process crash test's 20,000, long enough that the run is
 * still going at every kill (each kill stops it for up to a lease, 15 s).
 */
const RECORDS = 20_000;
/**
 * Freezes of the zombie run, a parameter too: the worker executing it is stopped (SIGSTOP) until its
 * lease has expired and another worker has taken the run over, then woken (SIGCONT). The 1st, 3rd…
 * freeze lands inside one of its write transactions (whose session PostgreSQL ends 10 s on), the
 * 2nd, 4th… at a random moment.
 */
const FREEZES = Number(process.env.SLUICE_CRASH_FREEZES ?? 2);
/** The ERP's latency in the zombie run (ms): writes are in flight at each freeze, and the run outlasts them. */
const ERP_LATENCY = { min: 1, max: 6 };
const WORKERS = 3;
const LOST = "the run's lease was taken by another process; it stops here and goes on there";

const deployment = pgDeployment();

/** The API process, `WORKERS` workers and the sandbox systems serving `records` work orders. */
async function startProcesses(records: number) {
  const sandbox = await deployment.sandbox(records);
  const env = deployment.env(sandbox.url);
  const apiProcess = await deployment.apiOnly(env);
  const startWorker = () => deployment.worker(env);
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
  const db = await openPostgres(deployment.url);
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The run's lease as stored: who holds it, and its epoch. */
async function leaseOf(db: PgDb, runId: string): Promise<{ owner: string | null; epoch: number }> {
  const { rows } = await db.$client.query<{ owner: string | null; epoch: number }>(
    'SELECT lease_owner AS owner, lease_epoch::int AS epoch FROM runs WHERE id = $1',
    [Number(runId)],
  );
  const lease = rows[0];
  if (!lease) throw new Error(`run ${runId} is not stored`);
  return lease;
}

/**
 * Sessions of the database (but the asking one) inside a transaction: between two of its statements
 * for at least `idleMs`; with no `idleMs`, also running one that is not its first.
 */
async function inTransaction(db: PgDb, idleMs?: number): Promise<number> {
  const { rows } = await db.$client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid()
         AND ((state = 'idle in transaction' AND state_change < clock_timestamp() - $1::int * interval '1 ms')
           OR ($1::int = 0 AND state = 'active' AND xact_start < query_start))`,
    [idleMs ?? 0],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Freezes the worker (SIGSTOP) inside one of its write transactions: it is stopped the moment one
 * is seen open, and kept stopped once its session stays idle inside it (nothing else in these
 * processes keeps a transaction open); a freeze that missed is woken at once and tried again.
 */
async function freezeInTransaction(db: PgDb, w: RunningServer): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const deadline = Date.now() + 10_000;
    while ((await inTransaction(db)) === 0) if (Date.now() > deadline) throw new Error('no write transaction seen');
    process.kill(w.pid, 'SIGSTOP');
    await sleep(500);
    if ((await inTransaction(db, 400)) > 0) return;
    process.kill(w.pid, 'SIGCONT');
    await sleep(100 + Math.random() * 400);
  }
  throw new Error('the worker was never frozen inside a transaction');
}

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

  it(`SIGSTOP of the worker executing a ${RECORDS}-record run past its lease, ${FREEZES} times: woken, it stores nothing`, async () => {
    const { sandbox, apiProcess, workers } = await startProcesses(RECORDS);
    await api(`${sandbox.url}/erp/_sandbox/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ seed: 7, latency: ERP_LATENCY }),
    });
    const db = await openPostgres(deployment.url);
    const runId = await startRun(apiProcess.url, 'Zombie test: work orders → ERP');
    const report: string[] = [];
    /** The worker that took the run over last. */
    let holder: RunningServer | undefined;
    try {
      let last = 0;
      for (let freeze = 0; freeze < FREEZES; freeze++) {
        const before = await progressed(apiProcess.url, runId, last);
        expect(before.status, `the run is still going at freeze ${freeze + 1}`).toBe('running');
        const zombie = await holderOf(workers);
        const mid = freeze % 2 === 0;
        if (mid) await freezeInTransaction(db, zombie);
        else {
          await sleep(200 + Math.random() * 1000);
          process.kill(zombie.pid, 'SIGSTOP');
        }
        const stoppedAt = Date.now();
        let wokeAt: number;
        const heldBy = await leaseOf(db, runId);
        const atStop = await api<RunDetail>(`${apiProcess.url}/api/runs/${runId}`);
        try {
          expect(atStop.status).toBe('running');
          // its lease runs out (15 s), another worker claims the run and stores progress of its own
          await eventually(
            async () => {
              const now = await leaseOf(db, runId);
              return now.epoch > heldBy.epoch && now.owner !== null && now.owner !== heldBy.owner ? now : undefined;
            },
            45_000,
            100,
          );
          await progressed(apiProcess.url, runId, settled(atStop));
          holder = await holderOf(workers.filter((w) => w !== zombie));
        } finally {
          process.kill(zombie.pid, 'SIGCONT');
          wokeAt = Date.now();
        }
        const linesAtWake = logLines(zombie.output()).length;
        const since = (msg: (m: string) => boolean) =>
          logLines(zombie.output())
            .slice(linesAtWake)
            .filter((l) => l.runId === runId && typeof l.msg === 'string' && msg(l.msg)).length;
        // woken, it learns that the lease is another's and stops the run here, within seconds
        await eventually(async () => (since((m) => m === LOST) === 1 ? true : undefined), 10_000, 50).catch(
          (err: unknown) => {
            const tail = zombie.output().split('\n').slice(-40).join('\n');
            throw new Error(`the woken worker (exit code ${zombie.exitCode()}) did not log "${LOST}":\n${tail}`, {
              cause: err,
            });
          },
        );
        const lostAfterMs = Date.now() - wokeAt;
        await eventually(async () => ((await runsOf(zombie)) === 0 ? true : undefined), 20_000);
        expect(zombie.exitCode(), 'the woken worker is still running').toBeNull();
        // it stopped the run as lost: it neither ended it nor failed to store it
        expect(since((m) => m.startsWith('the run ended'))).toBe(0);
        expect(since((m) => m.includes('could not be stored'))).toBe(0);
        report.push(
          `freeze ${freeze + 1} (${mid ? 'inside a write transaction' : 'at a random moment'}, at ${settled(atStop)} settled): ` +
            `woken ${((wokeAt - stoppedAt) / 1000).toFixed(1)} s after SIGSTOP, lease loss logged ${lostAfterMs} ms after SIGCONT`,
        );
        last = settled(await api<RunDetail>(`${apiProcess.url}/api/runs/${runId}`));
      }

      const final = await finished(apiProcess.url, runId);
      console.log(`zombie test: ${report.join('; ')}`);
      const erp = await expectAccountedFor(final, RECORDS, sandbox.url);
      // the run ended once, succeeded, in the worker that took it over last
      expect(workers.reduce((n, w) => n + logged(w, runId, (m) => m.startsWith('the run ended')), 0)).toBe(1);
      expect(holder && logged(holder, runId, (m) => m === 'the run ended succeeded')).toBe(1);
      expect(workers.reduce((n, w) => n + logged(w, runId, (m) => m.startsWith('resuming the run from')), 0)).toBe(
        FREEZES,
      );
      expect(workers.reduce((n, w) => n + logged(w, runId, (m) => m === LOST), 0)).toBe(FREEZES);
      console.log(
        `zombie test: ${RECORDS} records, each stored once, ${final.counts.succeeded} written once, ` +
          `${final.counts.failed} rejected; ${erp.replays} replayed writes answered from the idempotency log`,
      );
    } finally {
      await db.$client.end();
    }
    for (const p of [...workers, apiProcess, sandbox]) await p.stop();
  }, 240_000);
});
