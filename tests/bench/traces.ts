/**
 * `pnpm exec tsx tests/bench/traces.ts [--quick]`: what traces cost a run. The HTTP flow of the
 * main bench (maintenance work orders → batch 50 → map → one write per record to the ERP, the sandbox
 * systems on loopback) with tracing off (the plain client, no tracer) and on (a span per run, batch,
 * node and request, each request with its traceparent, sent as OTLP/HTTP JSON to a receiver in this
 * process), alternated: one pair to warm up, then three pairs. Prints one JSON line: the better
 * records/s of each (`traces_off_rps`, `traces_on_rps`, `traces_on_vs_off`), the median CPU time per
 * record of each (`traces_off_cpu_us`, `traces_on_cpu_us`: steadier than wall time on a shared
 * machine; the sandbox systems run in this process, so their work is counted in both) and the
 * spans the receiver got per traced run.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RunEvent, startRun } from '@sluice/engine';
import { flowDocument, validFlow } from '@sluice/engine/testing';
import { createConnectors } from '../../server/src/connectors.js';
import { createPooledHttpClient } from '../../server/src/http-client.js';
import { nodeRuntime, systemClock } from '../../server/src/node-runtime.js';
import { tuneRuntime } from '../../server/src/runtime-flags.js';
import { startSandbox } from '../../server/src/sandbox/index.js';
import { SqliteRunStore } from '../../server/src/storage/sqlite/run-store.js';
import { SqliteRunQueries } from '../../server/src/storage/sqlite/runs.js';
import { startTracing } from '../../server/src/tracing/start.js';
import { freshDb } from './timed-run.js';

const quick = process.argv.includes('--quick');
const n = quick ? 2_000 : 10_000;

const flow = flowDocument(
  [
    { id: 'start', type: 'manual' },
    {
      id: 'src',
      type: 'http-source',
      params: {
        connection: 'maintenance-sandbox',
        url: '/api/eam/work-orders',
        keyField: 'key',
        pageSize: 100,
        pagination: { type: 'token' },
      },
    },
    { id: 'batch', type: 'batch', params: { size: 50 } },
    {
      id: 'shape',
      type: 'map',
      params: {
        keep: 'none',
        fields: [
          { name: 'externalKey', expression: 'key' },
          { name: 'title', expression: 'title' },
          { name: 'assetKey', expression: 'assetKey' },
        ],
      },
    },
    { id: 'write', type: 'http-write', params: { connection: 'erp-sandbox', url: '/api/erp/work-orders' } },
  ],
  undefined,
  { name: 'bench-traces' },
);

tuneRuntime();
let spans = 0;
const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => {
    body += String(c);
  });
  req.on('end', () => {
    spans += body.split('"spanId"').length - 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

async function run(traced: boolean): Promise<{ rps: number; cpuUs: number }> {
  const sandbox = await startSandbox({ workOrders: n });
  const { db, dispose } = freshDb();
  const runs = new SqliteRunQueries(db);
  const runId = await runs.create({ flowId: null, flowVersionId: null, flowName: 'bench', trigger: 'cli' });
  const store = new SqliteRunStore(db);
  await store.ready();
  const pooled = createPooledHttpClient();
  const tracing = traced ? await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }) : undefined;
  const http = tracing ? tracing.wrapHttp(pooled.http) : pooled.http;
  const valid = validFlow(flow);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  tracing?.runStarted(runId, {
    flowId: null,
    flowName: valid.name,
    nodeTypes: new Map(valid.nodes.map((node) => [node.id, node.type])),
    resumed: false,
  });
  const result = await startRun({
    runId,
    flow: valid,
    clock: systemClock,
    runtime: nodeRuntime,
    store,
    connectors: createConnectors(sandbox.connections, http),
    ...(tracing ? { onEvent: (event: RunEvent) => tracing.event(event) } : {}),
  }).done;
  tracing?.runEnded(runId, { status: result.status, counts: result.counts });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (result.counts.read !== n) throw new Error(`unexpected counts ${JSON.stringify(result.counts)}`);
  await tracing?.shutdown();
  pooled.close();
  await store.close();
  await sandbox.close();
  db.$client.close();
  dispose();
  return { rps: n / seconds, cpuUs: (cpu.user + cpu.system) / n };
}

const off: { rps: number; cpuUs: number }[] = [];
const on: { rps: number; cpuUs: number }[] = [];
await run(false);
await run(true);
spans = 0;
for (let round = 0; round < 3; round++) {
  off.push(await run(false));
  on.push(await run(true));
}
receiver.close();
const best = (xs: { rps: number }[]) => Math.max(...xs.map((x) => x.rps));
const median = (xs: { cpuUs: number }[]) =>
  xs.map((x) => x.cpuUs).sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const r2 = (x: number) => Math.round(x * 100) / 100;
console.log(
  JSON.stringify({
    records: n,
    traces_off_rps: Math.round(best(off)),
    traces_on_rps: Math.round(best(on)),
    traces_on_vs_off: r2(best(on) / best(off)),
    traces_off_cpu_us: Math.round(median(off)),
    traces_on_cpu_us: Math.round(median(on)),
    spans_per_traced_run: spans / on.length,
  }),
);
