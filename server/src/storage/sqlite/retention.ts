import type Database from 'better-sqlite3';
import type { PruneResult, RetentionPolicy, RetentionStore } from '../port.js';
import type { Db } from './open.js';
import { FINAL_STATUSES_SQL } from './run-store.js';

const DAY_MS = 86_400_000;
/** Test runs whose outcomes are kept per flow (a never-saved draft's tests count as their flow name's), whatever their age. */
export const TEST_RUNS_KEPT = 5;
const CHUNK = 5000;

/**
 * Removes the per-record rows (outcomes, collected records, webhook inputs) of finished test runs
 * beyond their flow's newest `TEST_RUNS_KEPT` first, whatever their age; then of other finished runs
 * that are both older than `days` and not among their flow's newest `runsPerFlow` (test runs not counted). The run's summary, counts
 * and batches stay, marked `pruned_at`. Deletes go in small transactions so runs and the API keep going.
 */
export function prune(db: Db, policy: RetentionPolicy, now = Date.now()): PruneResult {
  const c = db.$client;
  const cutoff = now - policy.days * DAY_MS;
  // test runs are pruned first, and newer ones do not push real runs out of their flow's newest
  const ranked = (tests: boolean) => `SELECT id FROM (
         SELECT id, created_at, pruned_at, status,
           ROW_NUMBER() OVER (PARTITION BY COALESCE(flow_id, flow_name) ORDER BY id DESC) AS rank
         FROM runs WHERE trigger ${tests ? '=' : '<>'} 'test')
       WHERE pruned_at IS NULL AND status IN (${FINAL_STATUSES_SQL}) AND created_at < ? AND rank > ?`;
  const tests = c.prepare(ranked(true)).pluck().all(Number.MAX_SAFE_INTEGER, TEST_RUNS_KEPT) as number[];
  const others = c.prepare(ranked(false)).pluck().all(cutoff, policy.runsPerFlow) as number[];
  const victims = [...tests, ...others];
  let outcomes = 0;
  for (const id of victims) outcomes += pruneRun(c, id, now);
  return { runs: victims.length, outcomes };
}

/**
 * Removes a run's per-record rows. Each table is keyed by run first, so this is a range delete on
 * each, done in chunks of 5,000 rows, each in a transaction of its own, so the writer and the API
 * are not held up for long.
 */
function pruneRun(c: Database.Database, runId: number, now: number): number {
  const chunked = (sql: string, rows = CHUNK) => {
    const step = c.prepare(sql);
    for (;;) if (step.run(runId, rows).changes < rows) return;
  };
  chunked(
    'DELETE FROM outcome_keys WHERE (run_id, key, seq) IN (SELECT run_id, key, seq FROM outcome_keys WHERE run_id = ? LIMIT ?)',
  );
  chunked(
    'DELETE FROM outcome_details WHERE (run_id, seq) IN (SELECT run_id, seq FROM outcome_details WHERE run_id = ? LIMIT ?)',
  );
  // the outcomes removed, counted before their packs go
  const removed = c
    .prepare('SELECT COALESCE(SUM(count), 0) FROM outcome_packs WHERE run_id = ?')
    .pluck()
    .get(runId) as number;
  // a pack's outputs are up to 256 outcomes' worth: fewer to a chunk
  chunked(
    'DELETE FROM outcome_outputs WHERE id IN (SELECT id FROM outcome_outputs WHERE run_id = ? LIMIT ?)',
    CHUNK / 25,
  );
  chunked('DELETE FROM outcome_packs WHERE id IN (SELECT id FROM outcome_packs WHERE run_id = ? LIMIT ?)', CHUNK / 25);
  c.transaction(() => {
    c.prepare('DELETE FROM collected_records WHERE run_id = ?').run(runId);
    c.prepare('DELETE FROM run_inputs WHERE run_id = ?').run(runId);
    c.prepare('DELETE FROM retry_selections WHERE run_id = ?').run(runId);
    c.prepare('UPDATE runs SET pruned_at = ?, checkpoint = NULL WHERE id = ?').run(now, runId);
  })();
  return removed;
}

/** Retention over SQLite: `prune` above, through the port. */
export class SqliteRetention implements RetentionStore {
  constructor(private readonly db: Db) {}

  async prune(policy: RetentionPolicy, now?: number): Promise<PruneResult> {
    return prune(this.db, policy, now);
  }
}
