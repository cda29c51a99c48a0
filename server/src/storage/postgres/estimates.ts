import { BUCKET_BITS, mergeParts, type PackedOutcome, type PackRow, unpack } from '../outcomes/outcome-pack.mjs';
import type { EstimateRows, MeasuredRun, ProgressPoint } from '../port.js';
import { toId } from '../run-views.js';
import type { PgDb } from './db.js';
import { row, rows } from './rows.js';

const BUCKET = 2 ** BUCKET_BITS;

/** A packed row as `unpack` reads it: `nodes` as the JSON text it was written as, not jsonb's parsed value. */
const PACK_COLUMNS = 'bucket, part, count, nodes::text AS nodes, base_at, base_batch, meta, keys';

/**
 * What the run estimates (`server/src/runs/estimate.ts`) read from PostgreSQL: a flow's recent
 * measured runs, a retried run's failed count, and a running run's progress from its packed outcomes
 * (the last settled record, at or below a position, and the first), each one range of the packed rows'
 * (run, bucket, part) index that reads a bucket or two.
 */
export class PgEstimateRows implements EstimateRows {
  private readonly pool: PgDb['$client'];

  constructor(db: PgDb) {
    this.pool = db.$client;
  }

  async measuredRuns(flowId: string, limit: number): Promise<MeasuredRun[]> {
    const found = await rows<{
      id: number;
      read: number;
      started_at: number;
      finished_at: number;
      document: string | null;
    }>(
      this.pool,
      `SELECT r.id, r.read, r.started_at, r.finished_at, v.document FROM runs r
         LEFT JOIN flow_versions v ON v.id = r.flow_version_id
         WHERE r.flow_id = $1 AND r.status = 'succeeded' AND r.trigger NOT IN ('retry', 'test')
           AND r.started_at IS NOT NULL AND r.finished_at IS NOT NULL
         ORDER BY r.id DESC LIMIT $2`,
      [flowId, limit],
    );
    return found.map((r) => ({
      id: String(r.id),
      read: r.read,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      document: r.document,
    }));
  }

  async failedCount(runId: string): Promise<number | undefined> {
    const found = await row<{ failed: number }>(this.pool, 'SELECT failed FROM runs WHERE id = $1', [toId(runId)]);
    return found?.failed;
  }

  /**
   * The settled record with the largest position (at or below `atMost`): the parts of the highest
   * bucket at or below it, merged; when none of that bucket's records is at or below `atMost`, the
   * bucket before it.
   */
  async lastSettled(runId: string, atMost?: number): Promise<ProgressPoint | undefined> {
    const id = toId(runId);
    // no bound: the run's last bucket
    let below: number | null = atMost === undefined ? null : Math.floor(atMost / BUCKET);
    for (;;) {
      // the bound in the index condition, where a generic plan would filter by it
      const top =
        below === null
          ? 'SELECT max(bucket) FROM outcome_packs WHERE run_id = $1'
          : 'SELECT max(bucket) FROM outcome_packs WHERE run_id = $1 AND bucket <= $2::bigint';
      const parts = await rows<PackRow>(
        this.pool,
        `SELECT ${PACK_COLUMNS} FROM outcome_packs WHERE run_id = $1 AND bucket = (${top}) ORDER BY part`,
        below === null ? [id] : [id, below],
      );
      const first = parts[0];
      if (!first) return undefined;
      const settled = merged(parts).filter((o) => atMost === undefined || o.seq <= atMost);
      const last = settled[settled.length - 1];
      if (last) return { seq: last.seq, at: last.at };
      below = first.bucket - 1;
    }
  }

  async firstSettled(runId: string): Promise<ProgressPoint | undefined> {
    const parts = await rows<PackRow>(
      this.pool,
      `SELECT ${PACK_COLUMNS} FROM outcome_packs
         WHERE run_id = $1 AND bucket = (SELECT min(bucket) FROM outcome_packs WHERE run_id = $1)
         ORDER BY part`,
      [toId(runId)],
    );
    const first = merged(parts)[0];
    return first ? { seq: first.seq, at: first.at } : undefined;
  }
}

/** A bucket's outcomes from its parts (in part order), by position. */
function merged(parts: PackRow[]): PackedOutcome[] {
  return parts.length ? mergeParts(parts.map(unpack)) : [];
}
