import type { RecordOutcome, RunCommit } from '@sluice/engine';
import { syntheticRecord } from '../../engine/src/nodes/generate.js';
import type { PgDb } from '../../server/src/storage/postgres/db.js';
import { PgRunStore } from '../../server/src/storage/postgres/run-store.js';
import { freshPgDb, pgCeiling } from './pg.js';

const argN = process.argv.indexOf('--n');
const N = argN > 0 ? Number(process.argv[argN + 1]) : 1_000_000;
const BATCH = 100;

async function newRun(db: PgDb): Promise<number> {
  const { rows } = await db.$client.query<{ id: string }>(
    `INSERT INTO runs (flow_name, status, trigger, created_at) VALUES ('bench', 'running', 'cli', 0) RETURNING id`,
  );
  return Number(rows[0]?.id);
}

/** Outcome i as the engine flow settles it. */
function outcomeOf(i: number, at: number): RecordOutcome {
  const base = { seq: i, key: `rec-${i}`, batchNo: Math.floor(i / BATCH) + 1, attempts: 0, at };
  if (i % 10 === 0) return { ...base, status: 'filtered', nodeId: 'keep' };
  const r = syntheticRecord(i);
  return {
    ...base,
    status: 'succeeded',
    nodeId: 'out',
    outputNode: 'out',
    output: { ...r, total: (r.amount as number) * 2 },
  };
}

function commitOf(from: number, to: number): RunCommit {
  const at = Date.now();
  const outcomes: RecordOutcome[] = [];
  for (let i = from; i < to; i++) outcomes.push(outcomeOf(i, at));
  const filtered = Math.floor((to - 1) / 10) + 1;
  return {
    outcomes,
    collected: [],
    counts: { read: to, succeeded: to - filtered, filtered, failed: 0, cancelled: 0 },
    nodeCounts: { out: { in: to, out: to - filtered, error: 0, filtered } },
    checkpoint: { version: 1, lowWater: to, nextBatch: to / BATCH + 1, sourcesDone: [], nodeState: {}, breakers: {} },
    batch: {
      batchNo: from / BATCH + 1,
      size: to - from,
      startedAt: at,
      finishedAt: at,
      succeeded: outcomes.length - outcomes.filter((o) => o.status === 'filtered').length,
      filtered: outcomes.filter((o) => o.status === 'filtered').length,
      failed: 0,
    },
  };
}

async function throughStore(): Promise<{ rps: number; seconds: number; bytes: number }> {
  const { db, drop } = await freshPgDb();
  try {
    const runId = String(await newRun(db));
    const store = new PgRunStore(db);
    await store.ready();
    const t0 = performance.now();
    for (let from = 0; from < N; from += BATCH) {
      const r = store.commit(runId, commitOf(from, Math.min(N, from + BATCH)));
      if (r instanceof Promise) await r;
    }
    await store.flush(runId);
    const seconds = (performance.now() - t0) / 1000;
    await store.close();
    const { rows } = await db.$client.query<{ read: string; bytes: string }>(
      `SELECT r.read, (SELECT sum(pg_total_relation_size(t)) FROM unnest(ARRAY['outcome_packs', 'outcome_outputs',
         'outcome_keys', 'outcome_details']::regclass[]) AS t) AS bytes FROM runs r WHERE r.id = $1`,
      [Number(runId)],
    );
    if (Number(rows[0]?.read) !== N) throw new Error(`the run store stored ${rows[0]?.read} of ${N} reads`);
    return { rps: N / seconds, seconds, bytes: Number(rows[0]?.bytes) };
  } finally {
    await drop();
  }
}

/** Making the outcome objects alone (what the store's time includes and the raw insert's does not). */
function making(): number {
  const t0 = performance.now();
  let keep = 0;
  for (let from = 0; from < N; from += BATCH) keep += commitOf(from, Math.min(N, from + BATCH)).outcomes.length;
  if (keep !== N) throw new Error('made the wrong number of outcomes');
  return (performance.now() - t0) / 1000;
}

const f = (n: number) => Math.round(n).toLocaleString('en-US');
const rawRun = await pgCeiling(N);
const storeRun = await throughStore();
const made = making();
console.log(`PostgreSQL, ${f(N)} outcomes of the engine flow's shape`);
console.log(
  `  through PgRunStore: ${f(storeRun.rps)} rows/s (${storeRun.seconds.toFixed(1)} s, ${(storeRun.bytes / N).toFixed(1)} bytes an outcome on disk)`,
);
console.log(
  `  raw, one row each:  ${f(rawRun.rps)} rows/s (${rawRun.seconds.toFixed(1)} s, ${(rawRun.bytes / N).toFixed(1)} bytes an outcome on disk)`,
);
console.log(`  store / raw: ${(storeRun.rps / rawRun.rps).toFixed(2)}`);
console.log(`  (making the outcome objects alone: ${made.toFixed(1)} s of the store's time)`);
