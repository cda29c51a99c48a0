import { FINAL_RUN_STATUSES } from '@sluice/shared';
import type pg from 'pg';
import { type PackRow, unpack } from '../outcomes/outcome-pack.mjs';
import type { PruneResult, RetentionPolicy, RetentionStore } from '../port.js';
import type { PgDb } from './db.js';
import { indexedKey, PACK_COLUMNS } from './packs.js';
import { changes, type Queryable, row, rows } from './rows.js';

const DAY_MS = 86_400_000;
/** Test runs whose outcomes are kept per flow (a never-saved draft's tests count as their flow name's), whatever their age. */
export const TEST_RUNS_KEPT = 5;
/** Rows of a one-row-per-record table (keys, details, inputs…) deleted per statement. */
export const RECORD_BATCH = 5000;
/** Buckets of packed rows deleted per statement: up to 256 outcomes each, so a batch is as heavy as a record batch. */
export const BUCKET_BATCH = 200;
/** Buckets whose key rows are deleted per statement: about a record batch of keys. */
const KEY_BUCKET_BATCH = Math.max(1, Math.floor(RECORD_BATCH / 256));

/**
 * The advisory lock the prune job holds while it prunes ("slui", 2): every API process runs the job,
 * and one at a time is enough; the others find it held and leave the work to it.
 */
const PRUNE_LOCK = [0x736c7569, 2] as const;

const FINAL = FINAL_RUN_STATUSES.map((s) => `'${s}'`).join(', ');

/**
 * Retention in PostgreSQL: the same runs as SQLite's prune lose their per-record rows (first finished
 * test runs beyond their flow's newest `TEST_RUNS_KEPT`, whatever their age; then other finished runs
 * both older than `days` and not among their flow's newest `runsPerFlow`, test runs not counted); the
 * run's summary, counts and batches stay, marked `pruned_at`.
 *
 * The rows go by batched deletes, run by run, each batch a statement and a transaction of its own: the
 * key rows of a range of the run's buckets (`outcome_keys` is keyed key first, so each row is found
 * by its key, read from the packs), a range of its buckets (`outcome_packs`, `outcome_outputs`) or of its positions (`outcome_details`, inputs,
 * selections), so no statement holds locks or writes for long. Measured against partitioning by run id
 * (`tests/bench/pg-retention.ts`: 10M outcomes in packs, 200 runs over four flows, half of them pruned
 * while a writer stores a new run's packs and keys; PostgreSQL 15, two cores):
 *
 * - batched deletes: 52.6 s for the 100 runs (5M outcomes); the writer's statements p99 9.2 ms,
 *   longest 93 ms (7.5 ms and 15 ms before the prune); the files do not shrink (1,223 MB before, 1,310 MB
 *   after VACUUM, which took 5.6 s), but what they free is reused: 50 new runs written after it left
 *   the size as it was (1,330 MB);
 * - detaching and dropping partitions of 10 runs: 0.4 s for the 100, the writer's longest statement
 *   14 ms, 629 MB at once. But only runs whose partition goes whole: with one flow running rarely (every 20th run)
 *   among three frequent ones, the same policy let 6 partitions go whole (60 runs), and the other 55
 *   runs, in partitions that keep a run of the rare flow, still needed these deletes.
 *
 * Batched deletes are kept: runs are pruned per flow and by age, not in id order, so a partition can
 * only be dropped once every run in it is prunable, and the per-run deletes are needed for the rest
 * anyway. Partitioning would also need partitions created ahead of new run ids, unique keys that hold
 * the run id (the packs' surrogate id could no longer be the primary key), and a DETACH that locks the
 * whole table (waiting behind any long read of it, and stopping writers while it waits) or, run
 * CONCURRENTLY, cannot be part of a transaction. Dead rows are reclaimed by autovacuum, and their
 * space reused by later runs, as SQLite reuses its freed pages.
 */
export class PgRetention implements RetentionStore {
  private readonly pool: PgDb['$client'];

  constructor(db: PgDb) {
    this.pool = db.$client;
  }

  async prune(policy: RetentionPolicy, now = Date.now()): Promise<PruneResult> {
    const c = await this.pool.connect();
    let broken: Error | undefined;
    try {
      const locked = await row<{ locked: boolean }>(c, 'SELECT pg_try_advisory_lock($1, $2) AS locked', [
        ...PRUNE_LOCK,
      ]);
      if (!locked?.locked) return { runs: 0, outcomes: 0 };
      try {
        const victims = await this.victims(c, policy, now);
        let outcomes = 0;
        for (const id of victims) outcomes += await pruneRun(c, id, now);
        return { runs: victims.length, outcomes };
      } finally {
        await c.query('SELECT pg_advisory_unlock($1, $2)', [...PRUNE_LOCK]);
      }
    } catch (err) {
      // a connection that failed mid-prune may still hold the session's lock: it is closed, not reused
      broken = err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      c.release(broken);
    }
  }

  /** The runs to prune: test runs first, and newer ones do not push real runs out of their flow's newest. */
  private async victims(c: Queryable, policy: RetentionPolicy, now: number): Promise<number[]> {
    const ranked = (tests: boolean) => `SELECT id FROM (
         SELECT id, created_at, pruned_at, status,
           ROW_NUMBER() OVER (PARTITION BY COALESCE(flow_id, flow_name) ORDER BY id DESC) AS rank
         FROM runs WHERE trigger ${tests ? '=' : '<>'} 'test') ranked
       WHERE pruned_at IS NULL AND status IN (${FINAL}) AND created_at < $1 AND rank > $2 ORDER BY id`;
    const tests = await rows<{ id: number }>(c, ranked(true), [Number.MAX_SAFE_INTEGER, TEST_RUNS_KEPT]);
    const others = await rows<{ id: number }>(c, ranked(false), [now - policy.days * DAY_MS, policy.runsPerFlow]);
    return [...tests, ...others].map((r) => r.id);
  }
}

/** Removes a run's per-record rows in batches, then marks it pruned; returns the outcomes removed. */
export async function pruneRun(c: pg.PoolClient | pg.Pool, runId: number, now: number): Promise<number> {
  // the key rows, found from the run's packs (the key index is key first, so a run's rows are not one
  // range of it): a batch of buckets' keys at a time, each row by its whole key
  const top = await row<{ b: number | null }>(c, 'SELECT max(bucket) AS b FROM outcome_packs WHERE run_id = $1', [
    runId,
  ]);
  for (let from = 0; top?.b != null && from <= top.b; from += KEY_BUCKET_BATCH) {
    const packs = await rows<PackRow>(
      c,
      `SELECT ${PACK_COLUMNS} FROM outcome_packs p WHERE p.run_id = $1 AND p.bucket >= $2 AND p.bucket < $3`,
      [runId, from, from + KEY_BUCKET_BATCH],
    );
    const keys: Buffer[] = [];
    const seqs: number[] = [];
    // every part's outcomes: a position written again has its key row under its latest key only, and a
    // key named twice deletes nothing more
    for (const p of packs)
      for (const o of unpack(p)) {
        keys.push(indexedKey(Buffer.from(o.key)));
        seqs.push(o.seq);
      }
    if (keys.length)
      await changes(
        c,
        `DELETE FROM outcome_keys k USING unnest($2::bytea[], $3::bigint[]) AS d(key, seq)
           WHERE k.key = d.key AND k.run_id = $1 AND k.seq = d.seq`,
        [runId, keys, seqs],
      );
  }
  await byPosition(c, 'outcome_details', runId);
  // the outcomes removed, counted before their packs go
  const removed = await row<{ n: number }>(
    c,
    'SELECT COALESCE(SUM(count), 0) AS n FROM outcome_packs WHERE run_id = $1',
    [runId],
  );
  for (let from = 0; top?.b != null && from <= top.b; from += BUCKET_BATCH) {
    for (const table of ['outcome_outputs', 'outcome_packs'])
      await changes(c, `DELETE FROM ${table} WHERE run_id = $1 AND bucket >= $2 AND bucket < $3`, [
        runId,
        from,
        from + BUCKET_BATCH,
      ]);
  }
  await byPosition(c, 'run_inputs', runId);
  await byPosition(c, 'retry_selections', runId);
  // collected records are keyed (run, node, seq): a batch is any of the run's rows
  while (
    (await changes(
      c,
      'DELETE FROM collected_records WHERE run_id = $1 AND ctid = ANY (ARRAY(SELECT ctid FROM collected_records WHERE run_id = $1 LIMIT $2))',
      [runId, RECORD_BATCH],
    )) === RECORD_BATCH
  );
  await changes(c, 'UPDATE runs SET pruned_at = $1, checkpoint = NULL WHERE id = $2', [now, runId]);
  return removed?.n ?? 0;
}

/** Deletes a run's rows of a table keyed (run, seq), a range of positions per batch. */
async function byPosition(c: Queryable, table: string, runId: number): Promise<void> {
  for (let after = -1; ; ) {
    const last = await row<{ seq: number | null; n: number }>(
      c,
      `WITH gone AS (
         DELETE FROM ${table} WHERE run_id = $1 AND seq IN (
           SELECT seq FROM ${table} WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3)
         RETURNING seq)
       SELECT max(seq) AS seq, count(*) AS n FROM gone`,
      [runId, after, RECORD_BATCH],
    );
    if (!last || last.seq === null || last.n < RECORD_BATCH) return;
    after = last.seq;
  }
}
