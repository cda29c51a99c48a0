import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Connectors, startRun } from '@sluice/engine';
import { validFlow } from '@sluice/engine/testing';
// the modules a run needs, not the server's index (which loads the HTTP app, the sandbox and both
// stores): what a child imports is part of its peak memory
import { createConnectors } from '../../server/src/connectors.js';
import { createPooledHttpClient } from '../../server/src/http-client.js';
import { Metrics } from '../../server/src/metrics/metrics.js';
import { nodeRuntime, systemClock } from '../../server/src/node-runtime.js';
import { databaseFile, openDatabase } from '../../server/src/storage/sqlite/open.js';
import { SqliteRunStore } from '../../server/src/storage/sqlite/run-store.js';
import { SqliteRunQueries } from '../../server/src/storage/sqlite/runs.js';

/** The peak resident memory of this process so far, in MB. */
export const rssMb = () => process.resourceUsage().maxRSS / 1024;

/** A new data folder with its database. */
export function freshDb() {
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-bench-'));
  const file = databaseFile(dir);
  const db = openDatabase(file);
  return { db, dir, file, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The flow a run belongs to; none for a one-off run. */
export interface RunOf {
  flowId: string | null;
  flowVersionId: number | null;
}

/**
 * How a timed run is watched, the one switch between a measurement's "off" and "on" sides: metrics
 * as the server keeps them (its events counted, its HTTP client counted and timed). Nothing: off.
 */
export interface Observability {
  metrics?: Metrics;
}

/** Everything the server watches a run with (on), or nothing (off). */
export function observability(on: boolean): Observability {
  return on ? { metrics: new Metrics() } : {};
}

/** Runs a flow document to its end on the run store the server uses, timing it. */
export async function timedRun(
  db: ReturnType<typeof openDatabase>,
  doc: unknown,
  connections: Parameters<typeof createConnectors>[0] = [],
  of: RunOf = { flowId: null, flowVersionId: null },
  /** Ports beside HTTP the run is given (the SQL connections). */
  extra: Partial<Connectors> = {},
  /** What watches the run (made before the clock, as the server makes it at its start); default nothing. */
  observe: Observability = {},
) {
  const runs = new SqliteRunQueries(db);
  const runId = await runs.create({ ...of, flowName: 'bench', trigger: 'cli' });
  // the store lives as long as the server, its writer thread started with it: made before the clock
  const store = new SqliteRunStore(db);
  await store.ready();
  // the HTTP client the server uses: keep-alive pools, one per connection
  const pooled = createPooledHttpClient();
  const { metrics } = observe;
  const http = metrics ? metrics.instrumentHttp(pooled.http) : pooled.http;
  const flow = validFlow(doc);
  const t0 = performance.now();
  const watched = metrics?.observeRun({ runId, flowId: of.flowId, trigger: 'cli', flow });
  /** How long handling each of the run's events for the metrics took (ms), by event type: the direct part of their cost. */
  const watchMs = new Map<string, number[]>();
  const result = await startRun({
    runId,
    flow,
    clock: systemClock,
    runtime: nodeRuntime,
    store,
    connectors: { ...createConnectors(connections, http), ...extra },
    ...(watched
      ? {
          onEvent: (event) => {
            const from = performance.now();
            watched.event(event);
            const took = performance.now() - from;
            const times = watchMs.get(event.type);
            if (times) times.push(took);
            else watchMs.set(event.type, [took]);
          },
        }
      : {}),
  }).done;
  watched?.end(result);
  const seconds = (performance.now() - t0) / 1000;
  pooled.close();
  await store.close();
  // each event at its type's median time: the few that a collection or another process happened to
  // interrupt (up to tens of ms on a shared machine) would otherwise stand for the metrics' cost
  let watchSeconds = 0;
  for (const times of watchMs.values()) watchSeconds += (percentile(times, 50) * times.length) / 1000;
  const batchEvents = watchMs.get('batch');
  const watchBatchUs = batchEvents ? percentile(batchEvents, 50) * 1000 : 0;
  return { runId, runs, result, seconds, watchSeconds, watchBatchUs };
}

/** Bytes of the database in use: its pages minus the free ones, after the write-ahead log is folded in. */
export function usedBytes(db: ReturnType<typeof openDatabase>): number {
  const c = db.$client;
  c.pragma('wal_checkpoint(TRUNCATE)');
  const pages =
    (c.pragma('page_count', { simple: true }) as number) - (c.pragma('freelist_count', { simple: true }) as number);
  return pages * (c.pragma('page_size', { simple: true }) as number);
}

/** The bytes of the JSON a run's collect nodes kept, read page by page through the repository. */
export async function collectedBytes(runs: SqliteRunQueries, runId: string): Promise<number> {
  let bytes = 0;
  let cursor: number | undefined;
  for (;;) {
    const page = await runs.collected(runId, { limit: 1000, cursor });
    for (const item of page.items) bytes += Buffer.byteLength(JSON.stringify(item.data));
    if (page.nextCursor === null) return bytes;
    cursor = Number(page.nextCursor);
  }
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Sluice's parts on a benchmark's data folder, as the server opens them (no sandbox data, one run at a time). */
export async function openBenchSluice(dir: string, apiToken: string, env: Record<string, string> = {}) {
  const { openSluice } = await import('@sluice/server');
  return openSluice({
    dataDir: dir,
    sandboxPort: 0,
    sandboxUrl: undefined,
    sandboxWorkOrders: 0,
    concurrency: 1,
    perFlow: 1,
    payloadCap: 65_536,
    retention: { days: 30, runsPerFlow: 100 },
    apiToken,
    env,
  });
}
