import { laterWatermark, type Watermarks } from '@sluice/engine';
import type { NodeCounts, Page, RunDetail, RunStatus, RunSummary, TriggerKind } from '@sluice/shared';
import { ConflictError, notFound } from '../../errors.js';
import type { NewRun, RunListQuery, RunQueries, RunVersion, UnfinishedStatus, WatermarkView } from '../port.js';
import { type BatchRow, iso, jsonValue, page, type RunRow, toBatch, toId, toSummary } from '../run-views.js';
import type { PgDb } from './db.js';
import { fromPgText, fromPgTextOrNull, toPgText } from './pg-text.js';
import { changes, DB_NOW_MS, row, rows, transaction } from './rows.js';

const RUN_COLUMNS = `r.id, r.flow_id, r.flow_version_id, v.version, r.flow_name, r.status, r.trigger, r.read, r.succeeded,
  r.filtered, r.failed, r.cancelled, r.node_counts, r.error, r.waiting, r.retry_of, r.scheduled_for, r.pruned_at,
  r.created_at, r.started_at, r.finished_at, r.run_number, r.executor, r.lease_epoch`;

/** A run row with its error as it was before PostgreSQL stored it (`pg-text.ts`). */
const pgRun = (r: RunRow): RunRow => (r.error === null ? r : { ...r, error: fromPgTextOrNull(r.error) });

/** The methods of `RunQueries` that never read a run's record outcomes. */
export type RunsCoreQueries = Pick<
  RunQueries,
  | 'create'
  | 'inputs'
  | 'get'
  | 'versionOf'
  | 'list'
  | 'cancelQueued'
  | 'activeOf'
  | 'selectionSize'
  | 'watermarksOf'
  | 'listWatermarks'
  | 'advanceWatermarks'
  | 'unfinishedCounts'
>;

/**
 * Runs in PostgreSQL, the half of the run queries that does not read record outcomes: creating runs,
 * reading and listing them, cancelling a queued one, and the flow's watermarks. Many processes share
 * the database, so whatever SQLite got from having one writer at a time is asked for here: a flow's
 * run numbers are handed out under a lock on the flow's row, and a watermark moves under a lock on
 * its own row.
 */
export class PgRunsCore implements RunsCoreQueries {
  private readonly pool: PgDb['$client'];

  constructor(
    db: PgDb,
    /** The clock runs are stamped with; none: the database's, the one clock every process shares. */
    private readonly now?: () => number,
  ) {
    this.pool = db.$client;
  }

  private stamp(): number | null {
    return this.now ? this.now() : null;
  }

  async create(run: NewRun): Promise<string> {
    const numbered = run.flowId !== null && run.trigger !== 'test';
    return transaction(this.pool, async (c) => {
      // Two creates for one flow each take the next number: the second waits here until the first
      // commits, then reads its number (each statement reads what was committed before it began).
      // NO KEY UPDATE conflicts only with itself and updates of the flow, not with the key-share locks
      // that inserts referencing the flow take.
      // A flow that does not exist is said so here, rather than by the foreign key's error.
      if (run.flowId !== null) {
        const flow = await row(c, 'SELECT 1 FROM flows WHERE id = $1 FOR NO KEY UPDATE', [run.flowId]);
        if (!flow) throw notFound('flow', run.flowId);
      }
      const inserted = await row<{ id: number }>(
        c,
        `INSERT INTO runs (flow_id, flow_version_id, flow_name, status, trigger, retry_of, scheduled_for, created_at, run_number)
           VALUES ($1, $2, $3, 'queued', $4, $5, $6, COALESCE($7::bigint, ${DB_NOW_MS}),
             CASE WHEN $8::boolean THEN (SELECT COALESCE(MAX(run_number), 0) + 1 FROM runs WHERE flow_id = $1) END)
           ON CONFLICT (flow_id, scheduled_for) DO NOTHING
           RETURNING id`,
        [
          run.flowId,
          run.flowVersionId,
          run.flowName,
          run.trigger,
          run.retryOf ? toId(run.retryOf) : null,
          run.scheduledFor ?? null,
          this.stamp(),
          // test runs are hidden from the history, so they take no number: "run 3 of this flow" counts real runs
          numbered,
        ],
      );
      if (!inserted) {
        // the unique (flow_id, scheduled_for) index: another process fired this slot first
        throw new ConflictError(
          'slot_taken',
          `flow ${run.flowId}: the slot at ${new Date(run.scheduledFor ?? 0).toISOString()} already has its run`,
        );
      }
      const id = inserted.id;
      if (run.inputs?.length) {
        await c.query(
          `INSERT INTO run_inputs (run_id, seq, data)
             SELECT $1, t.n - 1, t.data FROM unnest($2::text[]) WITH ORDINALITY AS t(data, n)`,
          [id, run.inputs.map((r) => JSON.stringify(r))],
        );
      }
      if (run.selection?.length) {
        await c.query(
          `INSERT INTO retry_selections (run_id, seq, payload)
             SELECT $1, t.seq, t.payload FROM unnest($2::bigint[], $3::text[]) AS t(seq, payload)`,
          [
            id,
            run.selection.map((r) => r.seq),
            run.selection.map((r) => (r.payload === undefined ? null : JSON.stringify(r.payload))),
          ],
        );
      }
      return String(id);
    });
  }

  async inputs(runId: string, from: number, limit: number): Promise<Record<string, unknown>[]> {
    const found = await rows<{ data: string }>(
      this.pool,
      'SELECT data FROM run_inputs WHERE run_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3',
      [toId(runId), from, limit],
    );
    return found.map((r) => JSON.parse(r.data) as Record<string, unknown>);
  }

  async activeOf(flowId: string): Promise<{ id: string; status: RunStatus }[]> {
    const found = await rows<{ id: number; status: RunStatus }>(
      this.pool,
      `SELECT id, status FROM runs WHERE flow_id = $1 AND status IN ('queued', 'running', 'paused') ORDER BY id`,
      [flowId],
    );
    return found.map((r) => ({ id: String(r.id), status: r.status }));
  }

  async get(id: string): Promise<RunDetail> {
    const found = await row<RunRow>(
      this.pool,
      `SELECT ${RUN_COLUMNS} FROM runs r LEFT JOIN flow_versions v ON v.id = r.flow_version_id WHERE r.id = $1`,
      [toId(id)],
    );
    if (!found) throw notFound('run', id);
    const batches = await rows<BatchRow>(
      this.pool,
      'SELECT batch_no, size, succeeded, filtered, failed, started_at, finished_at FROM batches WHERE run_id = $1 ORDER BY batch_no',
      [found.id],
    );
    return {
      ...toSummary(pgRun(found)),
      nodeCounts: jsonValue<Record<string, NodeCounts>>(found.node_counts),
      batches: batches.map(toBatch),
      // the HTTP API adds a running run's ETA (server/src/runs/estimate.ts)
      eta: null,
    };
  }

  async versionOf(id: string): Promise<RunVersion> {
    const found = await row<{
      flow_version_id: number | null;
      document: string | null;
      retry_of: number | null;
      trigger: TriggerKind;
      started_at: number | string | null;
    }>(
      this.pool,
      `SELECT r.flow_version_id, r.retry_of, r.trigger, r.started_at, v.document FROM runs r
         LEFT JOIN flow_versions v ON v.id = r.flow_version_id WHERE r.id = $1`,
      [toId(id)],
    );
    if (!found) throw notFound('run', id);
    return {
      flowVersionId: found.flow_version_id,
      document: found.document,
      retryOf: found.retry_of === null ? null : String(found.retry_of),
      trigger: found.trigger,
      startedAt: found.started_at === null ? null : Number(found.started_at),
    };
  }

  async unfinishedCounts(): Promise<Record<UnfinishedStatus, number>> {
    const found = await rows<{ status: UnfinishedStatus; n: number }>(
      this.pool,
      `SELECT status, COUNT(*)::int AS n FROM runs WHERE status IN ('queued', 'running', 'paused') GROUP BY status`,
      [],
    );
    const counts = { queued: 0, running: 0, paused: 0 };
    for (const r of found) counts[r.status] = r.n;
    return counts;
  }

  async selectionSize(retryRunId: string): Promise<number> {
    const found = await row<{ n: number }>(this.pool, 'SELECT COUNT(*) AS n FROM retry_selections WHERE run_id = $1', [
      toId(retryRunId),
    ]);
    return found?.n ?? 0;
  }

  async cancelQueued(id: string): Promise<boolean> {
    const n = await changes(
      this.pool,
      `UPDATE runs SET status = 'cancelled', finished_at = COALESCE($1::bigint, ${DB_NOW_MS})
         WHERE id = $2 AND status = 'queued' AND (lease_owner IS NULL OR lease_expires_at <= ${DB_NOW_MS})`,
      [this.stamp(), toId(id)],
    );
    return n === 1;
  }

  async list(q: RunListQuery): Promise<Page<RunSummary>> {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (value: unknown) => {
      args.push(value);
      return `$${args.length}`;
    };
    if (q.trigger) where.push(`r.trigger = ${arg(q.trigger)}`);
    else where.push(`r.trigger <> 'test'`); // test runs are listed only when asked for
    // Ids grow with creation time, so a time range is also an id range: found through the creation-time
    // index, it lets every other filter's (…, id) index serve the range too.
    if (q.from !== undefined) {
      const first = await row<{ id: number }>(
        this.pool,
        'SELECT id FROM runs WHERE created_at >= $1 ORDER BY created_at LIMIT 1',
        [q.from],
      );
      where.push(`r.created_at >= ${arg(q.from)}`, `r.id >= ${arg(first?.id ?? Number.MAX_SAFE_INTEGER)}`);
    }
    if (q.to !== undefined) {
      const last = await row<{ id: number }>(
        this.pool,
        'SELECT id FROM runs WHERE created_at < $1 ORDER BY created_at DESC LIMIT 1',
        [q.to],
      );
      where.push(`r.created_at < ${arg(q.to)}`, `r.id <= ${arg(last?.id ?? 0)}`);
    }
    if (q.flowId) where.push(`r.flow_id = ${arg(q.flowId)}`);
    if (q.status) where.push(`r.status = ${arg(q.status)}`);
    if (q.cursor !== undefined) where.push(`r.id < ${arg(q.cursor)}`);
    const text = `SELECT ${RUN_COLUMNS} FROM runs r LEFT JOIN flow_versions v ON v.id = r.flow_version_id
      WHERE ${where.join(' AND ')} ORDER BY r.id DESC LIMIT ${arg(q.limit + 1)}`;
    const found = await rows<RunRow>(this.pool, text, args);
    return page(
      found.map((r) => toSummary(pgRun(r))),
      q.limit,
      (r) => r.id,
    );
  }

  async watermarksOf(flowId: string): Promise<Watermarks> {
    const found = await rows<{ node_id: string; value: string }>(
      this.pool,
      'SELECT node_id, value FROM watermarks WHERE flow_id = $1',
      [flowId],
    );
    return Object.fromEntries(found.map((r) => [r.node_id, fromPgText(r.value)]));
  }

  async listWatermarks(flowId: string): Promise<WatermarkView[]> {
    const found = await rows<{ node_id: string; value: string; run_id: number; updated_at: number }>(
      this.pool,
      'SELECT node_id, value, run_id, updated_at FROM watermarks WHERE flow_id = $1 ORDER BY node_id',
      [flowId],
    );
    return found.map((r) => ({
      nodeId: r.node_id,
      value: fromPgText(r.value),
      runId: String(r.run_id),
      updatedAt: iso(r.updated_at) as string,
    }));
  }

  /**
   * A watermark only moves forward: a run of the flow that started earlier and finishes later does not
   * take it back. Which of two values is later is the engine's rule (`laterWatermark`: dates, numbers,
   * text), not one SQL can say, so each watermark is compared here while its row is locked: a run
   * finishing at the same moment waits for the lock, then compares with what this one stored. A
   * watermark not stored yet is inserted, or, when another run inserts it first, compared as above.
   * Nodes are locked in one order, so two runs never wait on each other.
   */
  async advanceWatermarks(flowId: string, runId: string, watermarks: Watermarks): Promise<void> {
    const id = toId(runId);
    const entries = Object.entries(watermarks).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (entries.length === 0) return;
    await transaction(this.pool, async (c) => {
      for (const [nodeId, value] of entries) {
        const inserted = await changes(
          c,
          `INSERT INTO watermarks (flow_id, node_id, value, run_id, updated_at)
             VALUES ($1, $2, $3, $4, COALESCE($5::bigint, ${DB_NOW_MS}))
             ON CONFLICT (flow_id, node_id) DO NOTHING`,
          [flowId, nodeId, toPgText(value), id, this.stamp()],
        );
        if (inserted) continue;
        const current = await row<{ value: string }>(
          c,
          'SELECT value FROM watermarks WHERE flow_id = $1 AND node_id = $2 FOR UPDATE',
          [flowId, nodeId],
        );
        if (current && laterWatermark(fromPgText(current.value), value) === fromPgText(current.value)) continue;
        await c.query(
          `UPDATE watermarks SET value = $3, run_id = $4, updated_at = COALESCE($5::bigint, ${DB_NOW_MS})
             WHERE flow_id = $1 AND node_id = $2`,
          [flowId, nodeId, toPgText(value), id, this.stamp()],
        );
      }
    });
  }
}
