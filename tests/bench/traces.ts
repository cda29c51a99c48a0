/**
 * `pnpm exec tsx tests/bench/traces.ts [--quick]`: what traces cost a run. The HTTP flow of the
 * main bench (maintenance work orders → batch 50 → map → one write per record to the ERP, the sandbox
 * systems on loopback) with tracing off (the plain client, no tracer) and on (a span per run, batch,
 * node and request, each request with its traceparent, sent as OTLP/HTTP protobuf to a receiver in this
 * process), alternated: one pair to warm up, then three pairs. Prints one JSON line: the better
 * records/s of each (`traces_off_rps`, `traces_on_rps`, `traces_on_vs_off`), the median CPU time per
 * record of each (`traces_off_cpu_us`, `traces_on_cpu_us`: steadier than wall time on a shared
 * machine; the sandbox systems run in this process, so their work is counted in both) and the
 * spans the receiver got per traced run.
 */
import { tuneRuntime } from '../../server/src/runtime-flags.js';
import { startSandbox } from '../../server/src/sandbox/index.js';
import { type ProcessTracing, startTracing } from '../../server/src/tracing/start.js';
import { httpFlow } from './load.js';
import { freshDb, spanReceiver, timedRun } from './timed-run.js';

const quick = process.argv.includes('--quick');
const n = quick ? 2_000 : 10_000;

tuneRuntime();
const receiver = await spanReceiver();

async function run(traced: boolean): Promise<{ rps: number; cpuUs: number }> {
  const sandbox = await startSandbox({ workOrders: n });
  const { db, dispose } = freshDb();
  const tracing: ProcessTracing | undefined = traced
    ? await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint })
    : undefined;
  const cpu0 = process.cpuUsage();
  const { result, seconds } = await timedRun(
    db,
    httpFlow('bench-traces'),
    sandbox.connections,
    undefined,
    {},
    tracing ? { tracing, close: () => tracing.shutdown() } : {},
  );
  const cpu = process.cpuUsage(cpu0);
  if (result.counts.read !== n) throw new Error(`unexpected counts ${JSON.stringify(result.counts)}`);
  await sandbox.close();
  db.$client.close();
  dispose();
  return { rps: n / seconds, cpuUs: (cpu.user + cpu.system) / n };
}

const off: { rps: number; cpuUs: number }[] = [];
const on: { rps: number; cpuUs: number }[] = [];
await run(false);
await run(true);
const before = await receiver.count();
for (let round = 0; round < 3; round++) {
  off.push(await run(false));
  on.push(await run(true));
}
const spans = (await receiver.count()) - before;
await receiver.close();
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
