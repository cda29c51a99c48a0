import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serve } from '@hono/node-server';
import {
  convertLegacyOutcomes,
  createApp,
  databaseFile,
  FlowRepository,
  LEGACY_TABLE,
  openDatabase,
  SqliteFlows,
} from '@sluice/server';
import { openBenchSluice } from './timed-run.js';

const FLOWS = 10;
const KEYS = 10_000;
const TRIGGERS = ['schedule', 'schedule', 'manual', 'webhook', 'api'];
const TOKEN = 'bench-token-0123456789';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * Seeds `runs` runs and `outcomes` record outcomes (the most recent runs carry 100 outcomes each,
 * keys shared across runs, 8% failed), then measures three history queries over real HTTP on loopback.
 */
/** The seeded flows: the n-th of those whose runs the history measurements read. */
export const historyFlow = (n: number) => ({
  format: 1 as const,
  name: `History ${n}`,
  nodes: [
    { id: 'start', type: 'manual' as const },
    { id: 'src', type: 'generate' as const },
    { id: 'out', type: 'collect' as const },
  ],
  edges: [
    { source: 'start', target: 'src' },
    { source: 'src', target: 'out' },
  ],
});

export async function historyBench(runs: number, outcomes: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-history-'));
  const db = openDatabase(databaseFile(dir));
  const c = db.$client;
  const flows = new FlowRepository(new SqliteFlows(db));
  const flowIds: string[] = [];
  for (let f = 0; f < FLOWS; f++) {
    flowIds.push((await flows.create(historyFlow(f))).id);
  }
  const seedStart = performance.now();
  const insertRun = c.prepare(
    `INSERT INTO runs (id, flow_id, flow_version_id, flow_name, status, trigger, read, succeeded, failed, created_at, started_at, finished_at)
     VALUES (?, ?, ?, 'History', ?, ?, 100, 92, 8, ?, ?, ?)`,
  );
  const versionOf = new Map<string, number>();
  for (const id of flowIds) versionOf.set(id, Number((await flows.get(id)).versionId));
  c.transaction(() => {
    for (let r = 1; r <= runs; r++) {
      const flowId = flowIds[r % FLOWS] as string;
      const at = 1_700_000_000_000 + r * 60_000;
      const status = r % 13 === 0 ? 'cancelled' : r % 7 === 0 ? 'failed' : 'succeeded';
      insertRun.run(r, flowId, versionOf.get(flowId), status, TRIGGERS[r % TRIGGERS.length], at, at, at + 5000);
    }
  })();
  const error = c
    .prepare(
      `INSERT INTO error_messages (message, code, http_status) VALUES ('HTTP 422: assetKey is required', 'http_422', 422)`,
    )
    .run();
  const errorId = Number(error.lastInsertRowid);
  // seeded as a release before the packed layout stored them, then converted as the server does
  // when it opens such a database (fast: the conversion packs a run's rows in a few statements)
  c.exec(`CREATE TABLE IF NOT EXISTS ${LEGACY_TABLE} (run_id integer NOT NULL, seq integer NOT NULL, key text NOT NULL,
    status integer NOT NULL, node_id text NOT NULL, batch_no integer NOT NULL, attempts integer NOT NULL,
    error_id integer, payload text, output text, output_node text, at integer NOT NULL, PRIMARY KEY (run_id, seq))`);
  const insert = c.prepare(
    `INSERT INTO ${LEGACY_TABLE} (run_id, seq, key, status, node_id, batch_no, attempts, error_id, payload, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const perRun = 100;
  const withOutcomes = Math.ceil(outcomes / perRun);
  const firstRun = runs - withOutcomes + 1;
  const tx = c.transaction((from: number, to: number) => {
    for (let r = from; r < to; r++) {
      for (let s = 0; s < perRun; s++) {
        const failed = (r * 7 + s) % 100 < 8;
        const key = `wo-${(r * 31 + s * 97) % KEYS}`;
        insert.run(
          r,
          s,
          key,
          failed ? 2 : 0,
          failed ? 'erp' : 'out',
          1 + Math.floor(s / 50),
          1,
          failed ? errorId : null,
          failed ? '{"externalKey":"x"}' : null,
          0,
        );
      }
    }
  });
  for (let r = firstRun; r <= runs; r += 1000) tx(r, Math.min(runs + 1, r + 1000));
  convertLegacyOutcomes(c, { progress: () => {} });
  // the runs before those are what retention leaves of old runs: their summaries, marked pruned
  c.prepare('UPDATE runs SET pruned_at = finished_at WHERE id < ?').run(firstRun);
  const seedSeconds = (performance.now() - seedStart) / 1000;

  const parts = await openBenchSluice(dir, TOKEN);
  const app = createApp(parts);
  const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const viaNetwork = process.env.SLUICE_BENCH_HISTORY_NET === '1';
  const time = async (url: string) => {
    const t0 = performance.now();
    const res = viaNetwork ? await fetch(`${base}${url}`, auth) : await app.request(url, auth);
    const body = (await res.json()) as { items?: unknown[] };
    if (!res.ok || !body.items) throw new Error(`${url}: ${res.status}`);
    return performance.now() - t0;
  };
  const measure = async (make: (i: number) => string, n = 400) => {
    for (let i = 0; i < 20; i++) await time(make(i));
    const ms: number[] = [];
    for (let i = 0; i < n; i++) ms.push(await time(make(i)));
    return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
  };
  const history = await measure((i) => `/api/flows/${flowIds[i % FLOWS]}/records/wo-${(i * 7919) % KEYS}`);
  const failedPage = await measure(
    (i) => `/api/runs/${firstRun + ((i * 37) % withOutcomes)}/records?status=failed&limit=50`,
  );
  const runsPage = await measure((i) =>
    i % 3 === 0
      ? '/api/runs?limit=50'
      : i % 3 === 1
        ? `/api/runs?limit=50&flowId=${flowIds[i % FLOWS]}`
        : `/api/runs?limit=50&cursor=${runs - ((i * 997) % runs)}`,
  );
  // filtered lists: status, trigger and a time range (a day, anywhere in the history), alone and together
  const day = 86_400_000;
  const runsFiltered = await measure((i) => {
    const from = 1_700_000_000_000 + ((i * 7919) % runs) * 60_000;
    const range = `from=${new Date(from).toISOString()}&to=${new Date(from + day).toISOString()}`;
    const flow = `flowId=${flowIds[i % FLOWS]}`;
    return [
      `/api/runs?limit=50&status=failed`,
      `/api/runs?limit=50&trigger=webhook&${flow}`,
      `/api/runs?limit=50&${range}`,
      `/api/runs?limit=50&status=failed&trigger=schedule&${range}`,
      `/api/runs?limit=50&status=cancelled&${flow}&cursor=${runs - ((i * 997) % runs)}`,
    ][i % 5] as string;
  });
  const errorGroups = await measure((i) => `/api/runs/${firstRun + ((i * 37) % withOutcomes)}/errors`);
  const keySearch = await measure(
    (i) => `/api/runs/${firstRun + ((i * 37) % withOutcomes)}/records?key=wo-${(i * 7919) % KEYS}`,
  );
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await parts.sandbox.close();
  await parts.storage.close();
  db.$client.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    seedSeconds,
    historyP50: history.p50,
    historyP99: history.p99,
    failedPageP50: failedPage.p50,
    failedPageP99: failedPage.p99,
    runsPageP50: runsPage.p50,
    runsPageP99: runsPage.p99,
    runsFilteredP50: runsFiltered.p50,
    runsFilteredP99: runsFiltered.p99,
    errorGroupsP50: errorGroups.p50,
    errorGroupsP99: errorGroups.p99,
    keySearchP50: keySearch.p50,
    keySearchP99: keySearch.p99,
  };
}
