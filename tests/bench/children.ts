import { createPooledHttpClient, OutboundGuard, startSandbox, tuneRuntime } from '@sluice/server';
import { syntheticRecord } from '../../engine/src/nodes/generate.js';
import { runCrashScenario } from '../crash/scenario.js';
import { cliEngine, startTimes } from './cli.js';
import { historyBench } from './history.js';
import { apiUnderLoad, engineFlow, httpFlow } from './load.js';
import { measurePacing } from './pacing.js';
import { pgCeiling, pgEngine } from './pg.js';
import { retentionSteady } from './retention-steady.js';
import { sqlDriver, sqlEngine } from './sql.js';
import { collectedBytes, freshDb, observability, rssMb, timedRun, usedBytes } from './timed-run.js';
import { engineWithHistory } from './with-history.js';
import { pgApiUnderLoad, pgHistory, takeoverTimes, workersSpeedup } from './workers.js';

/** One measurement; runs in its own process, with the runtime options Sluice's own process sets. */
export async function runChild(kind: string, n: number): Promise<Record<string, number>> {
  tuneRuntime();
  if (kind === 'ceiling') return ceiling(n);
  if (kind === 'pg-ceiling') return pgCeiling(n);
  if (kind === 'pg-engine') return pgEngine(n);
  if (kind === 'engine') return engine(n);
  // metrics_overhead: the engine flow after a first, smaller run in the same process (as a server's
  // run is rarely its first), unwatched against watched as the server watches runs
  if (kind === 'engine-warm') return engine(n, false, n / 10);
  if (kind === 'engine-metrics') return engine(n, true, n / 10);
  // the scale-out measurements (workers.ts): Sluice's processes on PostgreSQL
  if (kind === 'workers-speedup') return workersSpeedup(n);
  if (kind.startsWith('takeover:')) return takeoverTimes(Number(kind.slice(9)), n);
  if (kind === 'pg-history') return pgHistory(n, n * 10);
  if (kind === 'pg-load') return pgApiUnderLoad(n);
  if (kind === 'pg-load-split') return pgApiUnderLoad(n, true);
  if (kind === 'pacing') {
    const p = await measurePacing(n);
    return { convergeS: p.convergeS, share429: p.share429, rate: p.rate, requests: p.requests, throttled: p.throttled };
  }
  if (kind === 'sql') return sqlEngine(n);
  // the built server as users run it (cli.ts): n records through `sluice run`; n starts of `sluice serve`
  if (kind === 'cli-engine') return cliEngine(n);
  if (kind === 'start') return startTimes(n);
  if (kind === 'sql-driver') return sqlDriver(n);
  if (kind === 'http') return overHttp(n);
  if (kind === 'sandbox-alone') return sandboxAlone(n);
  if (kind === 'sandbox-alone-pooled') return sandboxAlone(n, 'pooled');
  if (kind === 'http-vs-fetch') return httpVsFetch(n);
  if (kind === 'history') return historyBench(n, n * 10);
  // `engine-history` (ten times n outcomes of earlier runs) or `engine-history:<outcomes>`
  if (kind === 'engine-history' || kind.startsWith('engine-history:'))
    return engineWithHistory(n, kind.includes(':') ? Number(kind.slice(kind.indexOf(':') + 1)) : n * 10);
  if (kind.startsWith('retention-steady:')) return retentionSteady(Number(kind.slice(17)), n);
  if (kind === 'load') return apiUnderLoad(n);
  if (kind === 'delay') return delayPrecision(n);
  // loaded only here: the browser driver would otherwise weigh on every other measurement's memory
  if (kind === 'editor') return (await import('./editor.js')).editorBench(n);
  if (kind.startsWith('crash:')) {
    const r = await runCrashScenario(Number(kind.slice(6)), n);
    if (r.final.status !== 'succeeded') throw new Error(`crash run ended ${r.final.status}: ${r.final.error}`);
    return {
      kills: r.kills,
      recordsLost: r.recordsLost,
      recordsDuplicated: r.recordsDuplicated,
      replays: r.erp.replays,
    };
  }
  throw new Error(`unknown benchmark ${kind}`);
}

/**
 * The layout the per-record outcomes had before the packed store, kept as the fixed baseline: one
 * row per outcome with its key, status, node, batch, attempts, error, payload and collected output,
 * a primary key on (run, seq), an index by key and one by status. The table is made here, in the fresh
 * database, so the ceiling measures that layout whatever the schema now stores outcomes in.
 */
const NAIVE_LAYOUT = `CREATE TABLE naive_outcomes (run_id integer NOT NULL, seq integer NOT NULL, key text NOT NULL,
    status integer NOT NULL, node_id text NOT NULL, batch_no integer NOT NULL, attempts integer NOT NULL,
    error_id integer, payload text, output text, output_node text, at integer NOT NULL, PRIMARY KEY(run_id, seq));
  CREATE INDEX naive_outcomes_key ON naive_outcomes (key, run_id);
  CREATE INDEX naive_outcomes_status ON naive_outcomes (run_id, status, seq);`;

/**
 * Raw prepared inserts of n outcome rows shaped like the engine's (the same records, the collected
 * output of 90% of them) into the naive layout above, 1,000 per transaction: the storage ceiling.
 * The JSON of the outputs is made before the clock starts, so the ceiling is the insert alone.
 */
function ceiling(n: number) {
  const { db, dispose } = freshDb();
  const c = db.$client;
  // the connection as it was before the packed store (reads through read calls, not memory-mapped)
  c.pragma('mmap_size = 0');
  c.exec(NAIVE_LAYOUT);
  c.prepare(
    `INSERT INTO runs (id, flow_name, status, trigger, created_at) VALUES (1, 'ceiling', 'running', 'cli', 0)`,
  ).run();
  const insert = c.prepare(
    'INSERT INTO naive_outcomes (run_id, seq, key, status, node_id, batch_no, attempts, error_id, payload, output, output_node, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const outputs = new Array<string | null>(1000);
  const tx = c.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const filtered = i % 10 === 0;
      insert.run(
        1,
        i,
        `rec-${i}`,
        filtered ? 1 : 0,
        filtered ? 'keep' : 'out',
        Math.floor(i / 100) + 1,
        0,
        null,
        null,
        outputs[i - from],
        filtered ? null : 'out',
        Date.now(),
      );
    }
  });
  let seconds = 0;
  for (let from = 0; from < n; from += 1000) {
    for (let i = from; i < Math.min(n, from + 1000); i++) {
      const r = syntheticRecord(i);
      outputs[i - from] = i % 10 === 0 ? null : JSON.stringify({ ...r, total: (r.amount as number) * 2 });
    }
    const t0 = performance.now();
    tx(from, Math.min(n, from + 1000));
    seconds += (performance.now() - t0) / 1000;
  }
  db.$client.close();
  dispose();
  return { rps: n / seconds, seconds };
}

/**
 * The engine flow over n records, timed. What it stored is checked and weighed without reading the
 * outcome tables themselves, so the figures hold whatever layout they have: the run's counts, the
 * pages of the file in use, and the collected outputs read back through the repository (after the clock).
 * With `observed`, the run is watched as the server watches it (`observability`), and what the metrics
 * counted is checked against the run's counts (after the clock).
 */
async function engine(n: number, observed = false, warmUp = 0) {
  const { db, dispose } = freshDb();
  const observe = await observability(observed);
  if (warmUp > 0) {
    // the same flow, smaller, watched the same way (the tracer and the receiver kept for the timed run)
    const first = await timedRun(db, engineFlow(warmUp), [], undefined, {}, { ...observe, close: undefined });
    if (first.result.counts.read !== warmUp)
      throw new Error(`unexpected counts ${JSON.stringify(first.result.counts)}`);
    await observe.tracing?.flush();
  }
  const spansBefore = (await observe.count?.()) ?? 0;
  const { result, seconds, mainCpuS, processCpuS, runs, runId, watchSeconds, watchBatchUs } = await timedRun(
    db,
    engineFlow(n),
    [],
    undefined,
    {},
    observe,
  );
  if (result.counts.read !== n || result.counts.filtered !== n / 10)
    throw new Error(`unexpected counts ${JSON.stringify(result.counts)}`);
  if (observe.metrics) {
    const text = (await observe.metrics.render()).body;
    const kept = /^sluice_records_total\{flow="",node="out",outcome="succeeded"\} (\d+)$/m.exec(text)?.[1];
    const expected = (n + warmUp) * 0.9;
    if (Number(kept) !== expected) throw new Error(`the metrics counted ${kept} records kept, not ${expected}`);
  }
  // traced: the receiver got the run's span and a span per batch, at least
  const spans = (observe.spans?.() ?? 0) - spansBefore;
  if (observe.tracing && spans < n / 100) throw new Error(`the receiver got ${spans} spans of ${n / 100} batches`);
  const peakRss = rssMb();
  const stored = (await runs.get(runId)).counts;
  const outcomes = stored.succeeded + stored.filtered + stored.failed + stored.cancelled;
  if (stored.read !== n || outcomes !== n) throw new Error(`stored counts ${JSON.stringify(stored)} for ${n} records`);
  const bytes = usedBytes(db);
  const outputBytes = await collectedBytes(runs, runId);
  db.$client.close();
  dispose();
  (globalThis as { gc?: () => void }).gc?.();
  const liveHeapMb = process.memoryUsage().heapUsed / 1024 / 1024;
  return {
    rps: n / seconds,
    seconds,
    mainCpuS,
    processCpuS,
    rssMb: peakRss,
    liveHeapMb,
    dbBytesPerOutcome: bytes / n,
    dbBytesPerOutcomeNoOutput: (bytes - outputBytes) / n,
    // the share of the run spent handling its events for the metrics (each at its type's median time),
    // and a batch event's median time (0 when not watched)
    watchShare: watchSeconds / seconds,
    watchBatchUs,
    spans,
  };
}

async function overHttp(n: number) {
  const sandbox = await startSandbox({ workOrders: n });
  const { db, dispose } = freshDb();
  const { result, seconds } = await timedRun(db, httpFlow(), sandbox.connections);
  if (result.counts.read !== n) throw new Error(`unexpected counts ${JSON.stringify(result.counts)}`);
  await sandbox.close();
  db.$client.close();
  dispose();
  return { rps: n / seconds, seconds, rssMb: rssMb() };
}

/**
 * The same page reads and one-by-one writes with no engine: what the sandbox itself costs. With plain
 * fetch (`sandbox_alone_rps`), or with the HTTP client the engine is given (`sandbox_alone_pooled_rps`:
 * keep-alive pools), which tells the engine's own cost apart from the client's.
 */
async function sandboxAlone(n: number, client: 'fetch' | 'pooled' = 'fetch') {
  const sandbox = await startSandbox({ workOrders: n });
  const [maint, erp] = sandbox.connections as [(typeof sandbox.connections)[0], (typeof sandbox.connections)[0]];
  const pooled =
    client === 'pooled' ? createPooledHttpClient({ guard: new OutboundGuard([new URL(sandbox.url).host]) }) : undefined;
  const get = async (url: string): Promise<string> =>
    pooled
      ? (await pooled.http({ method: 'GET', url, headers: maint.headers, timeoutMs: 30_000, connection: maint.name }))
          .body
      : (await fetch(url, { headers: maint.headers })).text();
  const post = async (url: string, headers: Record<string, string>, body: string): Promise<void> => {
    if (pooled) await pooled.http({ method: 'POST', url, headers, body, timeoutMs: 30_000, connection: erp.name });
    else await (await fetch(url, { method: 'POST', headers, body })).text();
  };
  const t0 = performance.now();
  let token: string | null = null;
  let count = 0;
  do {
    const url: string = `${maint.baseUrl}/api/eam/work-orders?limit=100${token ? `&continuation_token=${token}` : ''}`;
    const page = JSON.parse(await get(url)) as {
      data: Record<string, unknown>[];
      meta: { continuation_token: string | null };
    };
    for (const w of page.data) {
      await post(
        `${erp.baseUrl}/api/erp/work-orders`,
        { ...erp.headers, 'content-type': 'application/json', 'idempotency-key': `alone:${count}` },
        JSON.stringify({ externalKey: w.key, title: w.title, assetKey: w.assetKey }),
      );
      count++;
    }
    token = page.meta.continuation_token;
  } while (token);
  const seconds = (performance.now() - t0) / 1000;
  pooled?.close();
  await sandbox.close();
  return { rps: count / seconds, seconds };
}

/**
 * `http_vs_fetch` in one process, for a quick look on a shared machine: the plain-fetch loop and the
 * engine over HTTP, alternated twice, the better of each kept (what `pnpm bench` reports from two
 * fresh processes instead).
 */
async function httpVsFetch(n: number) {
  const alone: number[] = [];
  const pooled: number[] = [];
  const http: number[] = [];
  for (let round = 0; round < 2; round++) {
    alone.push((await sandboxAlone(n)).rps);
    pooled.push((await sandboxAlone(n, 'pooled')).rps);
    http.push((await overHttp(n)).rps);
  }
  const best = (xs: number[]) => Math.max(...xs);
  return {
    http_rps: best(http),
    sandbox_alone_rps: best(alone),
    sandbox_alone_pooled_rps: best(pooled),
    http_vs_fetch: best(http) / best(alone),
    http_vs_pooled: best(http) / best(pooled),
  };
}

/** Gaps between batches for a configured 100 ms delay, against the real clock: how late each one was. */
async function delayPrecision(n: number) {
  const { db, dispose } = freshDb();
  const { runs, runId } = await timedRun(db, engineFlow(n, 100));
  const batches = (await runs.get(runId)).batches;
  db.$client.close();
  dispose();
  const errors: number[] = [];
  for (let i = 1; i < batches.length; i++) {
    const gap = Date.parse(batches[i]!.startedAt) - Date.parse(batches[i - 1]!.finishedAt!);
    errors.push(gap - 100);
  }
  errors.sort((a, b) => a - b);
  return {
    gaps: errors.length,
    minError: errors[0] as number,
    p50: errors[Math.floor(errors.length / 2)] as number,
    p99: errors[Math.min(errors.length - 1, Math.floor(errors.length * 0.99))] as number,
  };
}
