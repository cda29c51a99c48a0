import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type Connectors, startRun } from '@sluice/engine';
import { validFlow } from '@sluice/engine/testing';
// the modules a run needs, not the server's index (which loads the HTTP app, the sandbox and both
// stores): what a child imports is part of its peak memory
import { createConnectors } from '../../server/src/connectors.js';
import { createPooledHttpClient } from '../../server/src/http-client.js';
import { Metrics } from '../../server/src/metrics/metrics.js';
import { nodeRuntime, systemClock } from '../../server/src/node-runtime.js';
import { OutboundGuard } from '../../server/src/outbound-guard.js';
import { databaseFile, openDatabase } from '../../server/src/storage/sqlite/open.js';
import { SqliteRunStore } from '../../server/src/storage/sqlite/run-store.js';
import { SqliteRunQueries } from '../../server/src/storage/sqlite/runs.js';
import { type ProcessTracing, startTracing } from '../../server/src/tracing/start.js';

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
 * as the server keeps them (its events counted, its HTTP client counted and timed) and traces as the
 * server sends them (a span per run, batch, node and request, exported as OTLP/HTTP protobuf to a
 * receiver on loopback). Nothing: off.
 */
export interface Observability {
  metrics?: Metrics;
  tracing?: ProcessTracing;
  /** Stops the tracer (its last spans sent) and the receiver; after the clock. */
  close?: () => Promise<void>;
  /** Spans the receiver got, once closed. */
  spans?: () => number;
  /** Counts the spans the receiver got so far. */
  count?: () => Promise<number>;
}

/**
 * A collector's OTLP/HTTP receiver on loopback, on a thread of its own as a collector is a process of
 * its own. While a run goes it only takes each export request and answers 200, as a collector on
 * another machine costs this one nothing more; the spans are counted when asked (`count`, or on
 * close), after the clock: each request walked with protobufjs's reader down to ResourceSpans 1 →
 * ScopeSpans 2 → Span 2, without decoding the spans.
 */
export async function spanReceiver() {
  const protobufjs = createRequire(fileURLToPath(new URL('../../server/package.json', import.meta.url))).resolve(
    'protobufjs/minimal',
  );
  const worker = new Worker(
    `
    const { createServer } = require('node:http');
    const { parentPort, workerData } = require('node:worker_threads');
    const { Reader } = require(workerData.protobufjs);
    /** Calls each(reader) for every length-delimited field numbered field, skips the rest, to end. */
    function fields(r, end, field, each) {
      while (r.pos < end) {
        const key = r.uint32();
        if (key >>> 3 === field && (key & 7) === 2) {
          const length = r.uint32();
          const stop = r.pos + length;
          each(r, stop);
          r.pos = stop;
        } else r.skipType(key & 7);
      }
    }
    let spans = 0;
    /** Requests taken and not counted yet. */
    let bodies = [];
    function count() {
      for (const body of bodies) {
        const r = Reader.create(body);
        fields(r, r.len, 1, (r, end) => fields(r, end, 2, (r, end) => fields(r, end, 2, () => { spans++; })));
      }
      bodies = [];
      return spans;
    }
    const server = createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        bodies.push(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
    parentPort.on('message', (m) => {
      if (m === 'count') parentPort.postMessage({ spans: count() });
      else server.close(() => parentPort.postMessage({ spans: count(), closed: true }));
    });
    `,
    { eval: true, workerData: { protobufjs } },
  );
  const port = await new Promise<number>((resolve) => worker.once('message', (m: { port: number }) => resolve(m.port)));
  let spans = 0;
  let answered: (() => void) | undefined;
  worker.on('message', (m: { spans: number; closed?: boolean }) => {
    spans = m.spans;
    answered?.();
  });
  const ask = (message: 'count' | 'close') =>
    new Promise<void>((resolve) => {
      answered = resolve;
      worker.postMessage(message);
    });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    /** The spans counted when last asked (`count`), or all of them once closed. */
    spans: () => spans,
    /** Counts the spans received so far. */
    count: async () => {
      await ask('count');
      return spans;
    },
    close: async () => {
      await ask('close');
      await worker.terminate();
    },
  };
}

/** Everything the server watches a run with (on), or nothing (off). */
export async function observability(on: boolean): Promise<Observability> {
  if (!on) return {};
  const receiver = await spanReceiver();
  const tracing = await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint });
  if (!tracing) throw new Error('tracing did not start');
  return {
    metrics: new Metrics(),
    tracing,
    spans: receiver.spans,
    count: receiver.count,
    close: async () => {
      await tracing.shutdown();
      await receiver.close();
    },
  };
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
  // the HTTP client the server uses: keep-alive pools, one per connection, behind the outbound guard
  // (the bench's systems are on loopback, allowed as the server allows its sandbox)
  const pooled = createPooledHttpClient({ guard: new OutboundGuard(['127.0.0.1']) });
  const { metrics, tracing } = observe;
  // as the server wraps its client: traced (a span and a traceparent per request), then counted
  const traced = tracing ? tracing.wrapHttp(pooled.http) : pooled.http;
  const http = metrics ? metrics.instrumentHttp(traced) : traced;
  const flow = validFlow(doc);
  const cpu0 = mainThreadCpuS();
  const processCpu0 = process.cpuUsage();
  const t0 = performance.now();
  tracing?.runStarted(runId, {
    flowId: of.flowId,
    flowName: flow.name,
    nodeTypes: new Map(flow.nodes.map((node) => [node.id, node.type])),
    resumed: false,
  });
  const watched = metrics?.observeRun({ runId, flowId: of.flowId, trigger: 'cli', flow });
  /** How long handling each of the run's events took (ms), by event type: the direct part of their cost. */
  const watchMs = new Map<string, number[]>();
  const result = await startRun({
    runId,
    flow,
    clock: systemClock,
    runtime: nodeRuntime,
    store,
    connectors: { ...createConnectors(connections, http), ...extra },
    ...(watched || tracing
      ? {
          onEvent: (event) => {
            const from = performance.now();
            tracing?.event(event);
            watched?.event(event);
            const took = performance.now() - from;
            const times = watchMs.get(event.type);
            if (times) times.push(took);
            else watchMs.set(event.type, [took]);
          },
        }
      : {}),
  }).done;
  watched?.end(result);
  tracing?.runEnded(runId, { status: result.status, counts: result.counts, nodeCounts: result.nodeCounts });
  const seconds = (performance.now() - t0) / 1000;
  const mainCpuS = mainThreadCpuS() - cpu0;
  const processCpu = process.cpuUsage(processCpu0);
  const processCpuS = (processCpu.user + processCpu.system) / 1e6;
  await observe.close?.();
  pooled.close();
  await store.close();
  // each event at its type's median time: the few that a collection or another process happened to
  // interrupt (up to tens of ms on a shared machine) would otherwise stand for the metrics' cost
  let watchSeconds = 0;
  for (const times of watchMs.values()) watchSeconds += (percentile(times, 50) * times.length) / 1000;
  const batchEvents = watchMs.get('batch');
  const watchBatchUs = batchEvents ? percentile(batchEvents, 50) * 1000 : 0;
  return { runId, runs, result, seconds, mainCpuS, processCpuS, watchSeconds, watchBatchUs };
}

/**
 * CPU time the process's main thread (the run's) has used, in seconds, from the kernel's count for
 * that thread (Linux; 10 ms steps): unlike a run's wall time, it hardly moves when other processes
 * share the machine, and it leaves out the other threads (the outcome writer, the span exporter).
 */
export function mainThreadCpuS(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // the fields after the command's closing parenthesis: utime and stime are the 12th and 13th
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
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
