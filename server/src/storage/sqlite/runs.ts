import { laterWatermark, type ReplayRecord, type Watermarks } from '@sluice/engine';
import type {
  BatchSummary,
  NodeCounts,
  Page,
  RecordOutcomeView,
  RunDetail,
  RunStatus,
  RunSummary,
  TriggerKind,
} from '@sluice/shared';
import type Database from 'better-sqlite3';
import { ConflictError, notFound } from '../../errors.js';
import { BUCKET_BITS, CANCELLED, FAILED, find, type PackRow } from '../outcomes/outcome-pack.mjs';
import { errorView, type OutcomeRow, packedView, replayPayload, toOutcome } from '../outcomes/views.js';
import type {
  CollectedView,
  ErrorGroup,
  NewRun,
  RecordQuery,
  RunListQuery,
  RunQueries,
  RunVersion,
  UnfinishedStatus,
  WatermarkView,
} from '../port.js';
import { iso, jsonValue, page, type RunRow, toId, toSummary } from '../run-views.js';
import { readOutput } from '../stored-json.js';
import type { Db } from './open.js';
import { OutcomePacks, type PackedOutcome } from './outcome-store.js';
import { STATUS_CODE } from './run-store.js';
import { preparedStatements } from './statements.js';

const RUN_COLUMNS = `r.id, r.flow_id, r.flow_version_id, v.version, r.flow_name, r.status, r.trigger, r.read, r.succeeded,
  r.filtered, r.failed, r.cancelled, r.node_counts, r.error, r.waiting, r.retry_of, r.scheduled_for, r.pruned_at, r.created_at, r.started_at, r.finished_at, r.run_number, r.executor, r.lease_epoch`;

const DETAIL_COLUMNS = `o.run_id, o.seq, o.key, o.status, o.node_id, o.batch_no, o.attempts, o.payload, o.at,
  e.message, e.code, e.http_status`;

/**
 * Reads and creates runs, their batches and their record outcomes. better-sqlite3 answers at once;
 * the methods are async because the port is (another database answers over a socket).
 */
export class SqliteRunQueries implements RunQueries {
  private readonly c: Database.Database;
  private readonly sql: (text: string) => Database.Statement;
  private readonly packs: OutcomePacks;

  constructor(
    db: Db,
    private readonly now: () => number = Date.now,
  ) {
    this.c = db.$client;
    this.sql = preparedStatements(this.c);
    this.packs = new OutcomePacks(this.c);
  }

  private assertExists(id: number): void {
    if (!this.sql('SELECT 1 FROM runs WHERE id = ?').get(id)) throw notFound('run', String(id));
  }

  async create(run: NewRun): Promise<string> {
    try {
      return this.insertRun(run);
    } catch (err) {
      // the unique (flow_id, scheduled_for) index: another process fired this slot first
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && run.scheduledFor !== undefined)
        throw new ConflictError(
          'slot_taken',
          `flow ${run.flowId}: the slot at ${new Date(run.scheduledFor).toISOString()} already has its run`,
        );
      throw err;
    }
  }

  private insertRun(run: NewRun): string {
    return this.c.transaction(() => {
      const info = this.sql(
        `INSERT INTO runs (flow_id, flow_version_id, flow_name, status, trigger, retry_of, scheduled_for, created_at, run_number)
           VALUES (?, ?, ?, 'queued', ?, ?, ?, ?,
             CASE WHEN ? IS NULL OR ? = 'test' THEN NULL ELSE (SELECT COALESCE(MAX(run_number), 0) + 1 FROM runs WHERE flow_id = ?) END)`,
      ).run(
        run.flowId,
        run.flowVersionId,
        run.flowName,
        run.trigger,
        run.retryOf ? Number(run.retryOf) : null,
        run.scheduledFor ?? null,
        this.now(),
        // test runs are hidden from the history, so they take no number: "run 3 of this flow" counts real runs
        run.flowId,
        run.trigger,
        run.flowId,
      );
      const id = Number(info.lastInsertRowid);
      if (run.inputs?.length) {
        const insert = this.sql('INSERT INTO run_inputs (run_id, seq, data) VALUES (?, ?, ?)');
        for (const [seq, record] of run.inputs.entries()) insert.run(id, seq, JSON.stringify(record));
      }
      if (run.selection?.length) {
        const insert = this.sql('INSERT INTO retry_selections (run_id, seq, payload) VALUES (?, ?, ?)');
        for (const r of run.selection)
          insert.run(id, r.seq, r.payload === undefined ? null : JSON.stringify(r.payload));
      }
      return String(id);
    })();
  }

  /** Records a run was started with, from position `from`. */
  async inputs(runId: string, from: number, limit: number): Promise<Record<string, unknown>[]> {
    const rows = this.sql('SELECT data FROM run_inputs WHERE run_id = ? AND seq >= ? ORDER BY seq LIMIT ?')
      .pluck()
      .all(toId(runId), from, limit) as string[];
    return rows.map((r) => JSON.parse(r) as Record<string, unknown>);
  }

  /** Runs of a flow that have not finished (for schedules' overlap policy and the per-flow limit). */
  async activeOf(flowId: string): Promise<{ id: string; status: RunStatus }[]> {
    const rows = this.sql(
      `SELECT id, status FROM runs WHERE flow_id = ? AND status IN ('queued', 'running', 'paused') ORDER BY id`,
    ).all(flowId) as { id: number; status: RunStatus }[];
    return rows.map((r) => ({ id: String(r.id), status: r.status }));
  }

  /** A run's failed records grouped by error and node, most frequent first. */
  async errorGroups(runId: string, limit: number): Promise<ErrorGroup[]> {
    const id = toId(runId);
    this.assertExists(id);
    const rows = this.sql(
      `SELECT o.error_id, o.node_id, COUNT(*) AS n, e.message, e.code, e.http_status FROM outcome_details o
         LEFT JOIN error_messages e ON e.id = o.error_id
         WHERE o.run_id = ? AND o.status = 2 GROUP BY o.error_id, o.node_id ORDER BY n DESC LIMIT ?`,
    ).all(id, limit) as {
      error_id: number | null;
      node_id: string;
      n: number;
      message: string | null;
      code: string | null;
      http_status: number | null;
    }[];
    const samples = this.sql(
      `SELECT key FROM outcome_details INDEXED BY outcome_details_status
         WHERE run_id = ? AND status = 2 AND error_id IS ? AND node_id = ? ORDER BY seq LIMIT 5`,
    ).pluck();
    return rows.map((r) => ({
      message: r.message ?? '(no message)',
      code: r.code,
      httpStatus: r.http_status,
      nodeId: r.node_id,
      count: r.n,
      sampleKeys: samples.all(id, r.error_id, r.node_id) as string[],
    }));
  }

  async get(id: string): Promise<RunDetail> {
    const row = this.sql(
      `SELECT ${RUN_COLUMNS} FROM runs r LEFT JOIN flow_versions v ON v.id = r.flow_version_id WHERE r.id = ?`,
    ).get(toId(id)) as RunRow | undefined;
    if (!row) throw notFound('run', id);
    const batches = this.sql('SELECT * FROM batches WHERE run_id = ? ORDER BY batch_no').all(row.id) as Record<
      string,
      number | null
    >[];
    return {
      ...toSummary(row),
      nodeCounts: jsonValue<Record<string, NodeCounts>>(row.node_counts),
      batches: batches.map(
        (b): BatchSummary => ({
          batchNo: b.batch_no as number,
          size: b.size as number,
          succeeded: b.succeeded as number,
          filtered: b.filtered as number,
          failed: b.failed as number,
          startedAt: iso(b.started_at as number) as string,
          finishedAt: iso(b.finished_at ?? null),
        }),
      ),
      // the HTTP API adds a running run's ETA (server/src/runs/estimate.ts)
      eta: null,
    };
  }

  /** The flow version a run is pinned to, and the run it retries, if any. */
  async versionOf(id: string): Promise<RunVersion> {
    const row = this.sql(
      `SELECT r.flow_version_id, r.retry_of, r.trigger, r.started_at, v.document FROM runs r
         LEFT JOIN flow_versions v ON v.id = r.flow_version_id WHERE r.id = ?`,
    ).get(toId(id)) as
      | {
          flow_version_id: number | null;
          document: string | null;
          retry_of: number | null;
          trigger: TriggerKind;
          started_at: number | null;
        }
      | undefined;
    if (!row) throw notFound('run', id);
    return {
      flowVersionId: row.flow_version_id,
      document: row.document,
      retryOf: row.retry_of === null ? null : String(row.retry_of),
      trigger: row.trigger,
      startedAt: row.started_at,
    };
  }

  async unfinishedCounts(): Promise<Record<UnfinishedStatus, number>> {
    const rows = this.sql(
      `SELECT status, COUNT(*) AS n FROM runs WHERE status IN ('queued', 'running', 'paused') GROUP BY status`,
    ).all() as { status: UnfinishedStatus; n: number }[];
    const counts = { queued: 0, running: 0, paused: 0 };
    for (const r of rows) counts[r.status] = r.n;
    return counts;
  }

  /**
   * The failed records of a run after position `after`, in order, for a retry run to feed again: all of
   * them, or, when the retry run was given a selection, those selected, with their replacement payloads.
   */
  async failedForReplay(runId: string, after: number, limit: number, retryRunId?: string): Promise<ReplayRecord[]> {
    type Row = { seq: number; key: string; node_id: string; payload: string | null; replacement?: string | null };
    const selected =
      retryRunId !== undefined &&
      this.sql('SELECT 1 FROM retry_selections WHERE run_id = ? LIMIT 1').get(toId(retryRunId));
    const rows = (
      selected
        ? this.sql(
            `SELECT o.seq, o.key, o.node_id, o.payload, s.payload AS replacement FROM retry_selections s
               JOIN outcome_details o ON o.run_id = ? AND o.seq = s.seq AND o.status = 2
               WHERE s.run_id = ? AND s.seq > ? ORDER BY s.seq LIMIT ?`,
          ).all(toId(runId), toId(retryRunId as string), after, limit)
        : this.sql(
            `SELECT seq, key, node_id, payload FROM outcome_details INDEXED BY outcome_details_status
               WHERE run_id = ? AND status = 2 AND seq > ? ORDER BY seq LIMIT ?`,
          ).all(toId(runId), after, limit)
    ) as Row[];
    return rows.map((r) => ({
      ref: r.seq,
      key: r.key,
      nodeId: r.node_id,
      payload:
        typeof r.replacement === 'string'
          ? (JSON.parse(r.replacement) as Record<string, unknown>)
          : r.payload === null
            ? {}
            : replayPayload(r.payload),
    }));
  }

  /** Of these seqs, those that are not failed records of the run (a retry selection must name failed records). */
  async notFailed(runId: string, seqs: readonly number[]): Promise<number[]> {
    const failed = this.sql('SELECT 1 FROM outcome_details WHERE run_id = ? AND seq = ? AND status = 2');
    return seqs.filter((seq) => !failed.get(toId(runId), seq));
  }

  /** A retry run's selection, if it was given one: how many records. */
  async selectionSize(retryRunId: string): Promise<number> {
    return this.sql('SELECT COUNT(*) FROM retry_selections WHERE run_id = ?').pluck().get(toId(retryRunId)) as number;
  }

  /** Cancels a run that has not started; false when it is no longer queued. */
  async cancelQueued(id: string): Promise<boolean> {
    const info = this.sql(
      `UPDATE runs SET status = 'cancelled', finished_at = ? WHERE id = ? AND status = 'queued'
         AND (lease_owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at <= ?)`,
    ).run(this.now(), toId(id), Date.now());
    return info.changes === 1;
  }

  /** Runs, newest first, paged by id. */
  async list(q: RunListQuery): Promise<Page<RunSummary>> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.trigger) {
      where.push('r.trigger = ?');
      args.push(q.trigger);
    } else where.push(`r.trigger <> 'test'`); // test runs are listed only when asked for
    // Ids grow with creation time, so a time range is also an id range: found through the creation-time
    // index, it lets every other filter's (…, id) index serve the range too.
    if (q.from !== undefined) {
      const first = this.sql('SELECT id FROM runs WHERE created_at >= ? ORDER BY created_at LIMIT 1')
        .pluck()
        .get(q.from) as number | undefined;
      where.push('r.created_at >= ?', 'r.id >= ?');
      args.push(q.from, first ?? Number.MAX_SAFE_INTEGER);
    }
    if (q.to !== undefined) {
      const last = this.sql('SELECT id FROM runs WHERE created_at < ? ORDER BY created_at DESC LIMIT 1')
        .pluck()
        .get(q.to) as number | undefined;
      where.push('r.created_at < ?', 'r.id <= ?');
      args.push(q.to, last ?? 0);
    }
    if (q.flowId) {
      where.push('r.flow_id = ?');
      args.push(q.flowId);
    }
    if (q.status) {
      where.push('r.status = ?');
      args.push(q.status);
    }
    if (q.cursor !== undefined) {
      where.push('r.id < ?');
      args.push(q.cursor);
    }
    const sql = `SELECT ${RUN_COLUMNS} FROM runs r LEFT JOIN flow_versions v ON v.id = r.flow_version_id
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.id DESC LIMIT ?`;
    const rows = this.sql(sql).all(...args, q.limit + 1) as RunRow[];
    return page(rows.map(toSummary), q.limit, (r) => r.id);
  }

  /**
   * A run's record outcomes in read order, filtered by status, node or key, paged by position. Failed
   * and cancelled ones are read from their detail rows (by status); by key, from the key index; the
   * others from the packed rows, from the cursor's bucket on.
   */
  async records(runId: string, q: RecordQuery): Promise<Page<RecordOutcomeView>> {
    const id = toId(runId);
    this.assertExists(id);
    const status = q.status === undefined ? undefined : STATUS_CODE[q.status];
    if (status === FAILED || status === CANCELLED) {
      const where = ['o.run_id = ?', 'o.status = ?'];
      const args: (string | number)[] = [id, status];
      if (q.nodeId) {
        where.push('o.node_id = ?');
        args.push(q.nodeId);
      }
      if (q.key) {
        where.push('o.key = ?');
        args.push(q.key);
      }
      if (q.cursor !== undefined) {
        where.push('o.seq > ?');
        args.push(q.cursor);
      }
      const rows = this.sql(`SELECT ${DETAIL_COLUMNS} FROM outcome_details o INDEXED BY outcome_details_status
          LEFT JOIN error_messages e ON e.id = o.error_id
          WHERE ${where.join(' AND ')} ORDER BY o.seq LIMIT ?`).all(...args, q.limit + 1) as OutcomeRow[];
      return page(rows.map(toOutcome), q.limit, (o) => o.seq);
    }
    let found: PackedOutcome[];
    if (q.key !== undefined) {
      // the key's positions a page at a time, until a page's worth match the status and node too (or
      // the key's positions run out): filtering one page of positions only would end the pages early
      const bySeq = this.sql(
        'SELECT seq FROM outcome_keys WHERE run_id = ? AND key = ? AND seq > ? ORDER BY seq LIMIT ?',
      ).pluck();
      const key = Buffer.from(q.key);
      found = [];
      for (let after = q.cursor ?? -1; found.length <= q.limit; ) {
        const seqs = bySeq.all(id, key, after, q.limit + 1) as number[];
        const at = this.packs.at(id, seqs);
        for (const seq of seqs) {
          const o = at.get(seq);
          if (
            o !== undefined &&
            o.key === q.key &&
            (status === undefined || o.status === status) &&
            (q.nodeId === undefined || o.node === q.nodeId)
          )
            found.push(o);
        }
        if (seqs.length <= q.limit) break;
        after = seqs[seqs.length - 1] as number;
      }
    } else {
      found = this.packs.scan(id, { after: q.cursor, status, nodeId: q.nodeId, limit: q.limit + 1 });
    }
    const views = this.withDetails(id, found.slice(0, q.limit + 1));
    return page(views, q.limit, (o) => o.seq);
  }

  /** Packed outcomes as the API gives them, with the payload and error of those that have a detail row. */
  private withDetails(runId: number, outcomes: readonly PackedOutcome[]): RecordOutcomeView[] {
    if (outcomes.length === 0) return [];
    const first = (outcomes[0] as PackedOutcome).seq;
    const last = (outcomes[outcomes.length - 1] as PackedOutcome).seq;
    const details = new Map<number, OutcomeRow>();
    const select = `SELECT ${DETAIL_COLUMNS} FROM outcome_details o LEFT JOIN error_messages e ON e.id = o.error_id`;
    if (last - first > 4 * outcomes.length) {
      // far apart (found by key): one lookup each rather than a range over every detail row between them
      const one = this.sql(`${select} WHERE o.run_id = ? AND o.seq = ?`);
      for (const o of outcomes) {
        const r = one.get(runId, o.seq) as OutcomeRow | undefined;
        if (r) details.set(r.seq, r);
      }
    } else {
      const rows = this.sql(`${select} WHERE o.run_id = ? AND o.seq BETWEEN ? AND ?`).all(
        runId,
        first,
        last,
      ) as OutcomeRow[];
      for (const r of rows) details.set(r.seq, r);
    }
    return outcomes.map((o) => {
      const d = details.get(o.seq);
      return d ? toOutcome(d) : packedView(runId, o);
    });
  }

  /**
   * What happened to one record key in every run of a flow whose outcomes are kept, newest run first:
   * one lookup in each run's part of the key index, then the outcome from its packed row.
   */
  async history(flowId: string, key: string, limit: number): Promise<RecordOutcomeView[]> {
    // one statement: each kept run's key lookup joined with the packed row(s) holding that position
    // the key is the one asked for: the packed rows' keys are not read
    const rows = this.sql(`SELECT k.run_id, k.seq, p.bucket, p.part, p.count, p.nodes, p.base_at, p.base_batch, p.meta
        FROM (SELECT k.run_id, k.seq FROM runs r INDEXED BY runs_flow_kept
              JOIN outcome_keys k ON k.run_id = r.id AND k.key = ?
              WHERE r.flow_id = ? AND r.pruned_at IS NULL ORDER BY r.id DESC, k.seq LIMIT ?) k
        JOIN outcome_packs p ON p.run_id = k.run_id AND p.bucket = k.seq >> ${BUCKET_BITS}`).all(
      Buffer.from(key),
      flowId,
      limit,
    ) as (Omit<PackRow, 'keys'> & { run_id: number; seq: number })[];
    // newest run first, then by position, each position's parts in order (sorted here: a few hundred rows)
    rows.sort((a, b) => b.run_id - a.run_id || a.seq - b.seq || a.part - b.part);
    const detail =
      this.sql(`SELECT ${DETAIL_COLUMNS} FROM outcome_details o LEFT JOIN error_messages e ON e.id = o.error_id
        WHERE o.run_id = ? AND o.seq = ?`);
    const views: RecordOutcomeView[] = [];
    for (let i = 0; i < rows.length; ) {
      const { run_id: runId, seq } = rows[i] as (typeof rows)[number];
      // the parts of its bucket, in order: the last that has the position says what it is
      let found: PackedOutcome | undefined;
      for (; i < rows.length && rows[i]?.run_id === runId && rows[i]?.seq === seq; i++)
        found = find(rows[i] as Omit<PackRow, 'keys'>, seq, key) ?? found;
      if (!found) continue;
      // the detail row (error, payload) only where the packed outcome says there is one
      const d = found.detail ? (detail.get(runId, seq) as OutcomeRow | undefined) : undefined;
      views.push(d ? toOutcome(d) : packedView(runId, found));
    }
    return views;
  }

  /** Incremental sync: the stored watermark of each source node of a flow (node id → value). */
  async watermarksOf(flowId: string): Promise<Watermarks> {
    const rows = this.sql('SELECT node_id, value FROM watermarks WHERE flow_id = ?').all(flowId) as {
      node_id: string;
      value: string;
    }[];
    return Object.fromEntries(rows.map((r) => [r.node_id, r.value]));
  }

  /** The stored watermarks of a flow, for the API. */
  async listWatermarks(flowId: string): Promise<WatermarkView[]> {
    const rows = this.sql(
      'SELECT node_id, value, run_id, updated_at FROM watermarks WHERE flow_id = ? ORDER BY node_id',
    ).all(flowId) as { node_id: string; value: string; run_id: number; updated_at: number }[];
    return rows.map((r) => ({
      nodeId: r.node_id,
      value: r.value,
      runId: String(r.run_id),
      updatedAt: iso(r.updated_at) as string,
    }));
  }

  /**
   * Stores the watermarks a succeeded run reports. A watermark only moves forward: a run of the flow
   * that started earlier and finishes later does not take it back.
   */
  async advanceWatermarks(flowId: string, runId: string, watermarks: Watermarks): Promise<void> {
    const id = toId(runId);
    const at = this.now();
    this.c.transaction(() => {
      for (const [nodeId, value] of Object.entries(watermarks)) {
        const current = this.sql('SELECT value FROM watermarks WHERE flow_id = ? AND node_id = ?').get(
          flowId,
          nodeId,
        ) as { value: string } | undefined;
        if (current && laterWatermark(current.value, value) === current.value) continue;
        this.sql(
          `INSERT INTO watermarks (flow_id, node_id, value, run_id, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (flow_id, node_id) DO UPDATE SET value = excluded.value, run_id = excluded.run_id,
             updated_at = excluded.updated_at`,
        ).run(flowId, nodeId, value, id, at);
      }
    })();
  }

  /**
   * Records kept by the collect nodes of a run: with their outcomes, or (a second collect node) on
   * their own. A failed record's output stored without its outcome's payload and error gets them back
   * from the outcome row (see stored-json.ts), so it reads as the collect node kept it.
   */
  async collected(runId: string, q: { nodeId?: string; limit: number; cursor?: number }): Promise<Page<CollectedView>> {
    const id = toId(runId);
    this.assertExists(id);
    type Kept = { node: string; seq: number; key: string; data: string; status: number };
    // the first collect node a record reached: its output is in the record's packed outcome
    const first: Kept[] = this.packs
      .scan(id, { after: q.cursor, nodeId: q.nodeId, collected: true, limit: q.limit + 1 })
      .map((o) => ({
        node: o.outputNode as string,
        seq: o.seq,
        key: o.key,
        data: o.output as string,
        status: o.status,
      }));
    // a second collect node: its own rows, node by node (the table is keyed by run, node and position:
    // each node's rows after the cursor are one range, where all nodes' in position order would be
    // every row of the run, sorted)
    const nodes = q.nodeId !== undefined ? [q.nodeId] : this.collectNodes(id);
    const byNode = this.sql(
      `SELECT node_id AS node, seq, key, data, -1 AS status FROM collected_records
         WHERE run_id = ? AND node_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    );
    const more = nodes.flatMap((n) => byNode.all(id, n, q.cursor ?? -1, q.limit + 1) as Kept[]);
    const byNodeOrder = (a: Kept, b: Kept) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0);
    const merged = [...first, ...more].sort((a, b) => a.seq - b.seq || byNodeOrder(a, b));
    // A page ends between positions, never inside one: the cursor is a position, so a record kept by
    // two collect nodes cut apart by a page's end would lose the second on the next page.
    let kept = merged.slice(0, q.limit);
    let hasMore = merged.length > q.limit;
    if (hasMore) {
      const next = (merged[q.limit] as Kept).seq;
      kept = kept.filter((r) => r.seq !== next);
      if (kept.length === 0) {
        // one position fills the page: the page is all of it
        kept = [...first.filter((r) => r.seq === next), ...more.filter((r) => r.seq === next)].sort(byNodeOrder);
        hasMore =
          this.packs.scan(id, { after: next, nodeId: q.nodeId, collected: true, limit: 1 }).length > 0 ||
          nodes.some((n) => byNode.all(id, n, next, 1).length > 0);
      }
    }
    // a failed record's output may stand for its payload and error: those are in its detail row
    const details = new Map<
      number,
      { payload: string | null; message: string | null; code: string | null; http_status: number | null }
    >();
    if (kept.length) {
      const rows = this.sql(`SELECT o.seq, o.payload, e.message, e.code, e.http_status FROM outcome_details o
          LEFT JOIN error_messages e ON e.id = o.error_id WHERE o.run_id = ? AND o.seq BETWEEN ? AND ?`).all(
        id,
        (kept[0] as Kept).seq,
        (kept[kept.length - 1] as Kept).seq,
      ) as {
        seq: number;
        payload: string | null;
        message: string | null;
        code: string | null;
        http_status: number | null;
      }[];
      for (const r of rows) details.set(r.seq, r);
    }
    const items = kept.map((r): CollectedView => {
      const d = details.get(r.seq);
      return {
        nodeId: r.node,
        seq: r.seq,
        key: r.key,
        ...readOutput(r.data, {
          payload: d?.payload ?? null,
          error: d ? errorView(d.message, d.code, d.http_status) : null,
        }),
      };
    });
    const last = items[items.length - 1];
    return { items, nextCursor: hasMore && last !== undefined ? String(last.seq) : null };
  }

  /** The nodes that kept records of a run on their own (second collect nodes): one index seek each. */
  private collectNodes(runId: number): string[] {
    const firstNode = this.sql(
      'SELECT node_id FROM collected_records WHERE run_id = ? ORDER BY node_id LIMIT 1',
    ).pluck();
    const nextNode = this.sql(
      'SELECT node_id FROM collected_records WHERE run_id = ? AND node_id > ? ORDER BY node_id LIMIT 1',
    ).pluck();
    const nodes: string[] = [];
    for (
      let n = firstNode.get(runId) as string | undefined;
      n !== undefined;
      n = nextNode.get(runId, n) as string | undefined
    )
      nodes.push(n);
    return nodes;
  }
}
