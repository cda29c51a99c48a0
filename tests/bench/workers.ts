/**
 * The scale-out measurements: Sluice's own processes (`sluice serve`, `sluice serve --no-worker`,
 * `sluice worker`) started as a user starts them, on PostgreSQL, each measurement (and each side of a
 * comparison) on a fresh database of its own, dropped afterwards.
 *
 * - `workersSpeedup`: six runs of a flow that writes each work order to the sandbox ERP one request at
 *   a time (the http-write node's concurrency 1, one record a request), the ERP answering each write
 *   after 20 ms, all six queued at once by an API process; the wall time until all six are final with
 *   one worker process, then with three. Each worker executes at most two runs at once
 *   (`SLUICE_CONCURRENCY=2`; `SLUICE_FLOW_CONCURRENCY=6`, which counts across processes, so it does
 *   not hold the six back): one worker takes three rounds, three workers one, so the ideal is 3.
 * - `takeoverTimes`: three workers and a long run; the worker executing it killed with SIGKILL, and the
 *   time from the kill to the run's next stored progress (its settled counts, read from the database
 *   every 20 ms) under another worker's lease; then the same for the worker that took it over.
 * - `pgHistory`: the SQLite history figure (history.ts) on PostgreSQL: 100,000 runs of 10 flows, the
 *   newest carrying 100 outcomes each, written through the PostgreSQL run store as the engine writes
 *   them, then vacuumed and analysed as autovacuum would leave them; one record's history through the
 *   API in process (`app.request`), as the SQLite figure is.
 * - `pgApiUnderLoad`: the SQLite `api_p99_under_load_ms` (load.ts) with `sluice serve` on PostgreSQL:
 *   the runs list over HTTP every 20 ms while the same process executes the engine flow's run; and
 *   the same with the API in `sluice serve --no-worker` and the run in a `sluice worker`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApp, FlowRepository } from '@sluice/server';
import { type FlowDetail, isFinalRunStatus, type RunDetail } from '@sluice/shared';
import { createPool } from '../../server/src/storage/postgres/db.js';
import { openPostgresStorage } from '../../server/src/storage/postgres/index.js';
import { crashFlow } from '../crash/scenario.js';
import { API_READY, api, type RunningServer, startCli, startSandboxProcess, WORKER_READY } from '../support/server.js';
import { historyFlow } from './history.js';
import { apiUnderLoad } from './load.js';
import { freshPgDatabase } from './pg.js';
import { openBenchSluice, percentile } from './timed-run.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs of the speed-up measurement, and what one worker may execute at once. */
export const SPEEDUP_RUNS = 6;
export const RUNS_PER_WORKER = 2;
/** The ERP's answer time for each write in the speed-up measurement. */
export const ERP_LATENCY_MS = 20;

/**
 * Work orders → ERP, one request a record, one request at a time: the crash test's flow without its
 * delay between batches, its write's concurrency 1.
 */
const serialWriteFlow = (name: string) => ({
  ...crashFlow,
  name,
  nodes: crashFlow.nodes
    .filter((n) => n.id !== 'pause')
    .map((n) => (n.id === 'erp' ? { ...n, params: { ...n.params, concurrency: 1 } } : n)),
  edges: [
    ...(crashFlow.edges ?? []).filter((e) => e.source !== 'pause' && e.target !== 'pause'),
    { source: 'batch', target: 'shape' },
  ],
});

/** What every process of one measurement shares: its database, the sandbox systems, the secret key. */
async function cluster(sandbox: RunningServer) {
  const database = await freshPgDatabase();
  const env = {
    SLUICE_DATABASE_URL: database.url,
    SLUICE_SANDBOX_URL: sandbox.url,
    SLUICE_SECRET_KEY: randomBytes(32).toString('hex'),
    SLUICE_LOG_LEVEL: 'warn',
  };
  const processes: RunningServer[] = [];
  const start = async (args: string[], ready: RegExp, extra: Record<string, string> = {}) => {
    const p = await startCli(args, ready, { ...env, ...extra });
    processes.push(p);
    return p;
  };
  return {
    database,
    start,
    stop: async () => {
      for (const p of processes) await p.stop();
      await database.drop();
    },
  };
}

async function createFlow(apiUrl: string, doc: unknown): Promise<string> {
  const flow = await api<FlowDetail>(`${apiUrl}/api/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(doc),
  });
  return flow.id;
}

const settled = (r: RunDetail) => r.counts.succeeded + r.counts.failed + r.counts.filtered + r.counts.cancelled;

/** The wall time of `SPEEDUP_RUNS` runs of `records` work orders each with `workers` worker processes. */
async function speedupRound(sandbox: RunningServer, workers: number, records: number): Promise<number> {
  const c = await cluster(sandbox);
  try {
    // the API process first: it applies the migrations
    const apiProcess = await c.start(['serve', '--no-worker'], API_READY);
    await Promise.all(
      Array.from({ length: workers }, () =>
        c.start(['worker'], WORKER_READY, {
          SLUICE_CONCURRENCY: String(RUNS_PER_WORKER),
          SLUICE_FLOW_CONCURRENCY: String(SPEEDUP_RUNS),
        }),
      ),
    );
    const flowId = await createFlow(apiProcess.url, serialWriteFlow(`Speed-up, ${workers} workers`));
    const t0 = performance.now();
    const queuedAt = Date.now();
    const runIds: string[] = [];
    for (let i = 0; i < SPEEDUP_RUNS; i++)
      runIds.push(
        (await api<{ runId: string }>(`${apiProcess.url}/api/flows/${flowId}/runs`, { method: 'POST' })).runId,
      );
    const pending = new Set(runIds);
    const ended: RunDetail[] = [];
    let seconds = 0;
    while (pending.size) {
      for (const id of [...pending]) {
        const r = await api<RunDetail>(`${apiProcess.url}/api/runs/${id}`);
        if (!isFinalRunStatus(r.status)) continue;
        if (r.status !== 'succeeded' || r.counts.read !== records || settled(r) !== records)
          throw new Error(`run ${id} ended ${r.status} with ${JSON.stringify(r.counts)}: ${r.error}`);
        pending.delete(id);
        ended.push(r);
      }
      seconds = (performance.now() - t0) / 1000;
      if (pending.size) await sleep(100);
      if (seconds > 1800) throw new Error('the runs did not end in 30 minutes');
    }
    // when each run started (after the first was queued) and how long each took, for the reader
    const starts = ended.map((r) => (Date.parse(r.startedAt ?? '') - queuedAt) / 1000).sort((a, b) => a - b);
    const durations = ended.map((r) => (Date.parse(r.finishedAt ?? '') - Date.parse(r.startedAt ?? '')) / 1000);
    process.stderr.write(
      `    ${workers} worker(s): ${SPEEDUP_RUNS} runs of ${records} in ${seconds.toFixed(1)} s; started at ` +
        `${starts.map((t) => t.toFixed(1)).join(', ')} s; each took ${Math.min(...durations).toFixed(1)} to ` +
        `${Math.max(...durations).toFixed(1)} s\n`,
    );
    return seconds;
  } finally {
    await c.stop();
  }
}

export async function workersSpeedup(records: number): Promise<Record<string, number>> {
  const sandbox = await startSandboxProcess(records);
  try {
    const erp = await fetch(`${sandbox.url}/erp/_sandbox/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latency: { ms: ERP_LATENCY_MS } }),
    });
    if (!erp.ok) throw new Error(`the ERP's latency could not be set: ${erp.status} ${await erp.text()}`);
    const one = await speedupRound(sandbox, 1, records);
    const three = await speedupRound(sandbox, 3, records);
    return { oneWorkerS: one, threeWorkersS: three, speedup: one / three, runs: SPEEDUP_RUNS, records };
  } finally {
    await sandbox.stop();
  }
}

interface Health {
  runs: number;
  owner: string;
}

export async function takeoverTimes(kills: number, records: number): Promise<Record<string, number>> {
  const sandbox = await startSandboxProcess(records);
  const c = await cluster(sandbox);
  const pool = createPool(c.database.url, 1);
  try {
    const apiProcess = await c.start(['serve', '--no-worker'], API_READY);
    const workers = await Promise.all(Array.from({ length: kills + 1 }, () => c.start(['worker'], WORKER_READY)));
    const owners = new Map<string, RunningServer>();
    for (const w of workers) owners.set(((await (await fetch(`${w.url}/health`)).json()) as Health).owner, w);
    const flowId = await createFlow(apiProcess.url, { ...crashFlow, name: 'Takeover benchmark' });
    const { runId } = await api<{ runId: string }>(`${apiProcess.url}/api/flows/${flowId}/runs`, { method: 'POST' });
    const state = async () => {
      const { rows } = await pool.query<{ status: string; settled: string; owner: string | null }>(
        `SELECT status, succeeded + failed + filtered + cancelled AS settled, lease_owner AS owner FROM runs WHERE id = $1`,
        [Number(runId)],
      );
      const row = rows[0];
      if (!row) throw new Error(`run ${runId} is not stored`);
      return { status: row.status, settled: Number(row.settled), owner: row.owner };
    };
    const until = async <T>(check: () => Promise<T | undefined>, every: number, ms: number) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const v = await check();
        if (v !== undefined) return v;
        if (Date.now() > deadline) throw new Error('the run did not move in time');
        await sleep(every);
      }
    };
    const times: number[] = [];
    let after = 0;
    for (let k = 0; k < kills; k++) {
      // the run has moved on since it started or was taken over, then a moment at random
      await until(async () => ((await state()).settled > after ? true : undefined), 50, 60_000);
      await sleep(200 + Math.random() * 1000);
      const at = await state();
      if (at.status !== 'running' || !at.owner) throw new Error(`the run was ${at.status} at kill ${k + 1}`);
      const holder = owners.get(at.owner);
      if (!holder) throw new Error(`the run is held by ${at.owner}, none of the workers`);
      await holder.crash();
      const killedAt = performance.now();
      owners.delete(at.owner);
      // what the killed worker had stored by the time it died
      const before = (await state()).settled;
      const next = await until(
        async () => {
          const s = await state();
          if (s.status !== 'running' && s.status !== 'queued')
            throw new Error(`the run ended ${s.status} before it was taken over`);
          return s.settled > before && s.owner && owners.has(s.owner) ? s : undefined;
        },
        20,
        60_000,
      );
      times.push(performance.now() - killedAt);
      process.stderr.write(
        `    kill ${k + 1} at ${before} settled: taken over, next progress stored after ${(times[k] as number).toFixed(0)} ms\n`,
      );
      after = next.settled;
    }
    const sorted = [...times].sort((a, b) => a - b);
    const median =
      sorted.length % 2
        ? (sorted[(sorted.length - 1) / 2] as number)
        : ((sorted[sorted.length / 2 - 1] as number) + (sorted[sorted.length / 2] as number)) / 2;
    return {
      kills: times.length,
      takeoverMs: median,
      takeoverMinMs: sorted[0] as number,
      takeoverMaxMs: sorted.at(-1) as number,
    };
  } finally {
    await pool.end();
    await c.stop();
    await sandbox.stop();
  }
}

const FLOWS = 10;
const KEYS = 10_000;
const TOKEN = 'bench-token-0123456789';

/**
 * history.ts's seed on PostgreSQL: `runs` runs of 10 flows; the newest `outcomes / 100` carry 100
 * outcomes each (keys shared across runs, 8% failed with the same error), stored through the
 * PostgreSQL run store, one commit a run, as the engine stores them; the older runs' outcomes pruned
 * (their summaries kept). Then one record's history through the API in process, 400 times.
 */
export async function pgHistory(runs: number, outcomes: number): Promise<Record<string, number>> {
  const database = await freshPgDatabase();
  try {
    const seedStart = performance.now();
    const storage = await openPostgresStorage(database.url);
    const flowIds: string[] = [];
    try {
      const flows = new FlowRepository(storage.flows);
      for (let f = 0; f < FLOWS; f++) {
        const flow = await flows.create(historyFlow(f));
        flowIds.push(flow.id);
      }
      const c = storage.db.$client;
      // the runs, in order, each of the flow r % 10 (its latest version), as history.ts lays them out
      await c.query(
        `INSERT INTO runs (id, flow_id, flow_version_id, flow_name, status, trigger, read, succeeded, failed, created_at,
           started_at, finished_at, run_number)
         SELECT r, f.id, v.id, 'History',
           CASE WHEN r % 13 = 0 THEN 'cancelled' WHEN r % 7 = 0 THEN 'failed' ELSE 'succeeded' END,
           (ARRAY['schedule', 'schedule', 'manual', 'webhook', 'api'])[r % 5 + 1], 100, 92, 8,
           1700000000000 + r::bigint * 60000, 1700000000000 + r::bigint * 60000, 1700000000000 + r::bigint * 60000 + 5000,
           (r - 1) / ${FLOWS} + 1
         FROM generate_series(1, $1::int) AS r
         JOIN unnest($2::text[]) WITH ORDINALITY AS f(id, n) ON f.n = r % ${FLOWS} + 1
         JOIN flow_versions v ON v.flow_id = f.id`,
        [runs, flowIds],
      );
      await c.query(`SELECT setval(pg_get_serial_sequence('runs', 'id'), $1)`, [runs]);
      const perRun = 100;
      const withOutcomes = Math.ceil(outcomes / perRun);
      const firstRun = runs - withOutcomes + 1;
      const error = { code: 'http_422', message: 'HTTP 422: assetKey is required', httpStatus: 422 };
      for (let r = firstRun; r <= runs; r++) {
        const list = [];
        for (let s = 0; s < perRun; s++) {
          const failed = (r * 7 + s) % 100 < 8;
          list.push({
            seq: s,
            key: `wo-${(r * 31 + s * 97) % KEYS}`,
            status: failed ? ('failed' as const) : ('succeeded' as const),
            nodeId: failed ? 'erp' : 'out',
            batchNo: 1 + Math.floor(s / 50),
            attempts: 1,
            ...(failed ? { error, payload: { externalKey: 'x' } } : {}),
            at: 1_700_000_000_000 + r * 60_000,
          });
        }
        const counts = { read: perRun, succeeded: 92, filtered: 0, failed: 8, cancelled: 0 };
        await storage.runStore.commit(String(r), {
          outcomes: list,
          collected: [],
          counts,
          nodeCounts: {},
          checkpoint: { version: 1, lowWater: perRun, nextBatch: 3, sourcesDone: ['src'], nodeState: {}, breakers: {} },
        });
      }
      await storage.runStore.flush();
      await c.query('UPDATE runs SET pruned_at = finished_at WHERE id < $1', [firstRun]);
      // as autovacuum leaves the tables once the seed has settled (visibility map set, statistics taken)
      await c.query('VACUUM ANALYZE');
      // and the seed's pages written out, so the measurement does not share the disk with the checkpoint
      await c.query('CHECKPOINT');
    } finally {
      await storage.close();
    }
    const seedSeconds = (performance.now() - seedStart) / 1000;

    const dataDir = mkdtempSync(path.join(tmpdir(), 'sluice-bench-'));
    const parts = await openBenchSluice(dataDir, TOKEN, {
      SLUICE_DATABASE_URL: database.url,
      SLUICE_SECRET_KEY: randomBytes(32).toString('hex'),
    });
    try {
      const app = createApp(parts);
      const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
      const time = async (url: string) => {
        const t0 = performance.now();
        const res = await app.request(url, auth);
        const body = (await res.json()) as { items?: unknown[] };
        if (!res.ok || !body.items) throw new Error(`${url}: ${res.status}`);
        return performance.now() - t0;
      };
      const url = (i: number) => `/api/flows/${flowIds[i % FLOWS]}/records/wo-${(i * 7919) % KEYS}`;
      for (let i = 0; i < 20; i++) await time(url(i));
      const ms: number[] = [];
      for (let i = 0; i < 400; i++) ms.push(await time(url(i)));
      return { seedSeconds, historyP50: percentile(ms, 50), historyP99: percentile(ms, 99), samples: ms.length };
    } finally {
      await parts.sandbox.close();
      await parts.storage.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  } finally {
    await database.drop();
  }
}

/**
 * load.ts's measurement on a fresh PostgreSQL database: with `sluice serve` executing the run in the
 * process that answers (`split` false, as the SQLite figure), or with the API in `sluice serve
 * --no-worker` and the run in a `sluice worker` (`split` true).
 */
export async function pgApiUnderLoad(records: number, split = false): Promise<Record<string, number>> {
  const database = await freshPgDatabase();
  const env = {
    SLUICE_DATABASE_URL: database.url,
    SLUICE_SECRET_KEY: randomBytes(32).toString('hex'),
    SLUICE_LOG_LEVEL: 'warn',
  };
  try {
    if (!split) return await apiUnderLoad(records, () => startCli(['serve'], API_READY, env));
    const sandbox = await startSandboxProcess(0);
    try {
      const withSandbox = { ...env, SLUICE_SANDBOX_URL: sandbox.url };
      return await apiUnderLoad(records, async () => {
        const apiProcess = await startCli(['serve', '--no-worker'], API_READY, withSandbox);
        const worker = await startCli(['worker'], WORKER_READY, withSandbox);
        return {
          ...apiProcess,
          stop: async () => {
            await worker.stop();
            await apiProcess.stop();
          },
        };
      });
    } finally {
      await sandbox.stop();
    }
  } finally {
    await database.drop();
  }
}
