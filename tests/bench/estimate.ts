/**
 * `tsx tests/bench/estimate.ts [--rounds 3] [--work-orders N] [--only NAME]`: how far the run estimate is from what
 * happens. For every example flow (the demo among them) and two generated flows (a fixed delay, a rate
 * limit), on a fresh server with its sandbox systems: one run gives the history, then the estimate is
 * asked for (`GET /api/flows/{id}/estimate`), then a second run is timed. Prints a table (estimate,
 * actual, error) and, last, one JSON line with every figure.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp, createLogger, openSluice } from '@sluice/server';
import { createApiClient, type FlowEstimate, type RunDetail } from '@sluice/shared';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLES = path.join(REPO, 'examples');
const TOKEN = 'bench-token-0123456789';
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const workOrders = Number(arg('--work-orders') ?? 1000);
const only = arg('--only');
/** Rounds: each makes every flow afresh (one run of history, then the estimate, then the timed run). */
const rounds = Number(arg('--rounds') ?? 3);

const generated = (name: string, delay: Record<string, unknown>, batch?: number) => ({
  format: 1,
  name,
  nodes: [
    { id: 'start', type: 'manual' },
    { id: 'gen', type: 'generate', params: { count: 2000, pageSize: 500 } },
    ...(batch ? [{ id: 'batch', type: 'batch', params: { size: batch } }] : []),
    { id: 'pause', type: 'delay', params: delay },
    { id: 'end', type: 'collect' },
  ],
  edges: [
    { source: 'start', target: 'gen' },
    ...(batch
      ? [
          { source: 'gen', target: 'batch' },
          { source: 'batch', target: 'pause' },
        ]
      : [{ source: 'gen', target: 'pause' }]),
    { source: 'pause', target: 'end' },
  ],
});

const cases: { name: string; document: unknown }[] = [
  ...readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.flow.json'))
    .sort()
    .map((f) => ({
      name: f.replace(/\.flow\.json$/, ''),
      document: JSON.parse(readFileSync(path.join(EXAMPLES, f), 'utf8')),
    })),
  { name: 'generated: 2,000 in batches of 100, 100 ms apart', document: generated('fixed', { ms: 100 }, 100) },
  {
    name: 'generated: 2,000 at 500 per second',
    document: generated('rate', { mode: 'rate', records: 500, intervalMs: 1000 }),
  },
].filter((c) => !only || c.name.includes(only));

const dir = mkdtempSync(path.join(tmpdir(), 'sluice-estimate-'));
const files = path.join(dir, 'files');
cpSync(path.join(EXAMPLES, 'data'), path.join(files, 'data'), { recursive: true });
const parts = await openSluice({
  dataDir: dir,
  filesDir: files,
  sandboxPort: 0,
  sandboxUrl: undefined,
  sandboxWorkOrders: workOrders,
  concurrency: 4,
  perFlow: 4,
  payloadCap: 65_536,
  retention: { days: 30, runsPerFlow: 100 },
  apiToken: TOKEN,
  env: {},
  logger: createLogger({ level: 'silent' }),
});
parts.runner.start();
const app = createApp(parts);
const api = createApiClient({ baseUrl: 'http://bench.test', token: TOKEN, fetch: async (u, i) => app.request(u, i) });

const duration = (r: RunDetail) => Date.parse(r.finishedAt ?? '') - Date.parse(r.startedAt ?? '');
async function run(flowId: string): Promise<RunDetail> {
  const { runId } = await api.call('startRun', { params: { id: flowId } });
  await parts.runner.wait(runId);
  return api.call('getRun', { params: { id: runId } });
}

interface Row {
  flow: string;
  round: number;
  records: number | null;
  actualRecords: number;
  recordsFrom: string | null;
  lowerBoundMs: number | null;
  estimateMs: number | null;
  actualMs: number;
  errorPct: number | null;
  status: string;
}
const rows: Row[] = [];
try {
  for (let round = 1; round <= rounds; round++)
    for (const c of cases) {
      process.stderr.write(`  … round ${round}: ${c.name}\n`);
      const flow = await api.call('createFlow', { body: c.document });
      const first = await run(flow.id);
      const estimate: FlowEstimate = await api.call('flowEstimate', { params: { id: flow.id } });
      const second = await run(flow.id);
      const actual = duration(second);
      rows.push({
        flow: c.name,
        round,
        records: estimate.records,
        actualRecords: second.counts.read,
        recordsFrom: estimate.recordsFrom,
        lowerBoundMs: estimate.lowerBoundMs,
        estimateMs: estimate.estimateMs,
        actualMs: actual,
        errorPct:
          estimate.estimateMs === null || actual <= 0
            ? null
            : Math.round(((estimate.estimateMs - actual) / actual) * 1000) / 10,
        status: `${first.status}/${second.status}`,
      });
    }
} finally {
  parts.scheduler.stop();
  await parts.runner.stop();
  await parts.sandbox.close();
  await parts.storage.close();
  rmSync(dir, { recursive: true, force: true });
}

const ms = (v: number | null) => (v === null ? '–' : v.toLocaleString('en-US'));
const pct = (v: number | null) => (v === null ? '–' : `${v > 0 ? '+' : ''}${v}%`);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const round1 = (v: number) => Math.round(v * 10) / 10;
console.log(
  `Run estimate against the actual run, ${rounds} round(s) (${workOrders.toLocaleString('en-US')} work orders in the sandbox; the demo flow is work-orders-to-erp)`,
);
console.log(
  `${'flow'.padEnd(50)} ${'records'.padStart(8)} ${'read'.padStart(6)} ${'bound ms'.padStart(9)} ${'est. ms (each round)'.padStart(24)} ${'actual ms (each round)'.padStart(24)} ${'error (each round)'.padStart(24)} ${'median |error|'.padStart(15)}`,
);
const perFlow: { flow: string; medianAbsPct: number | null; medianAbsMs: number | null; actualMs: number }[] = [];
for (const c of cases) {
  const mine = rows.filter((r) => r.flow === c.name);
  const errors = mine.filter((r) => r.errorPct !== null);
  const medianAbsPct = errors.length ? round1(median(errors.map((r) => Math.abs(r.errorPct as number)))) : null;
  const medianAbsMs = errors.length
    ? Math.round(median(errors.map((r) => Math.abs((r.estimateMs as number) - r.actualMs))))
    : null;
  const actualMs = median(mine.map((r) => r.actualMs));
  perFlow.push({ flow: c.name, medianAbsPct, medianAbsMs, actualMs });
  const first = mine[0];
  console.log(
    `${c.name.padEnd(50)} ${ms(first?.records ?? null).padStart(8)} ${ms(first?.actualRecords ?? null).padStart(6)} ${ms(first?.lowerBoundMs ?? null).padStart(9)} ${mine
      .map((r) => ms(r.estimateMs))
      .join(' / ')
      .padStart(24)} ${mine
      .map((r) => ms(r.actualMs))
      .join(' / ')
      .padStart(24)} ${mine
      .map((r) => pct(r.errorPct))
      .join(' / ')
      .padStart(24)} ${(medianAbsPct === null ? '–' : `${medianAbsPct}% (${medianAbsMs} ms)`).padStart(15)}`,
  );
}
// runs of a few tens of ms are dominated by start-up noise (and the first run of a process by compiling)
const long = perFlow.filter((f) => f.medianAbsPct !== null && f.actualMs >= 1000);
const short = perFlow.filter((f) => f.medianAbsPct !== null && f.actualMs < 1000);
const meanLong = long.length ? round1(long.reduce((s, f) => s + (f.medianAbsPct as number), 0) / long.length) : null;
const shortMs = short.length ? Math.round(median(short.map((f) => f.medianAbsMs as number))) : null;
console.log(
  `runs of 1 s or more (${long.length} flows): mean of the median |error| ${meanLong ?? '–'}%; shorter runs (${short.length} flows): median |error| ${shortMs ?? '–'} ms`,
);
console.log(
  JSON.stringify({
    workOrders,
    rounds,
    meanAbsErrorPctLongRuns: meanLong,
    medianAbsErrorMsShortRuns: shortMs,
    perFlow,
    rows,
  }),
);
