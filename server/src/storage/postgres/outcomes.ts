import type { ReplayRecord } from '@sluice/engine';
import type { Page, RecordOutcomeView } from '@sluice/shared';
import type pg from 'pg';
import { notFound } from '../../errors.js';
import { BUCKET_BITS, CANCELLED, FAILED, find, type PackedOutcome, type PackRow } from '../outcomes/outcome-pack.mjs';
import { errorView, type OutcomeRow, packedView, replayPayload, toOutcome } from '../outcomes/views.js';
import { STATUS_CODE } from '../outcomes/write-group.js';
import type { CollectedView, ErrorGroup, RecordQuery } from '../port.js';
import { page } from '../run-views.js';
import { readOutput } from '../stored-json.js';
import type { PgDb } from './db.js';
import { indexedKey, PgPacks } from './packs.js';
import { fromPgText, fromPgTextOrNull, toPgText } from './pg-text.js';

/**
 * A detail row's columns joined with its error (`o` and `e`), numbers as numbers: node-postgres reads
 * `bigint` as a string, so positions and times are read as doubles (exact below 2^53).
 */
const DETAIL_COLUMNS = `o.run_id::text AS run_id, o.seq::float8 AS seq, o.key, o.status, o.node_id, o.batch_no,
  o.attempts, o.payload, o.at::float8 AS at, e.message, e.code, e.http_status`;

const DETAIL_FROM = 'outcome_details o LEFT JOIN error_messages e ON e.id = o.error_id';

/** A detail row as the API gives it, its texts as they were before PostgreSQL stored them (`pg-text.ts`). */
const pgOutcome = (d: OutcomeRow) =>
  toOutcome({
    ...d,
    key: fromPgText(d.key),
    message: fromPgTextOrNull(d.message),
    code: fromPgTextOrNull(d.code),
  });

/**
 * The outcome-reading queries of `RunQueries` (port.ts) over PostgreSQL, answering exactly as SQLite's
 * RunRepository does: a run's records paged by position and filtered by status, node or key, one key's
 * history across a flow's kept runs, the records collect nodes kept, error groups, and the failed
 * records a retry feeds again. Failed and cancelled records are read from their detail rows; the rest
 * from the packed rows (storage/outcomes/outcome-pack.mjs), a status filter skipping the rows whose
 * status bitmask lacks it.
 */
export class PgOutcomeQueries {
  private readonly pool: pg.Pool;
  private readonly packs: PgPacks;

  constructor(db: PgDb) {
    this.pool = db.$client;
    this.packs = new PgPacks(this.pool);
  }

  private async assertExists(id: number): Promise<void> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM runs WHERE id = $1', [id]);
    if (!rowCount) throw notFound('run', String(id));
  }

  /**
   * A run's record outcomes in read order, filtered by status, node or key, paged by position. Failed
   * and cancelled ones are read from their detail rows (by status); by key, from the key index; the
   * others from the packed rows, from the cursor's bucket on.
   */
  async records(runId: string, q: RecordQuery): Promise<Page<RecordOutcomeView>> {
    const id = toId(runId);
    await this.assertExists(id);
    const status = q.status === undefined ? undefined : STATUS_CODE[q.status];
    if (status === FAILED || status === CANCELLED) {
      const args: (string | number)[] = [id, status];
      const where = ['o.run_id = $1', 'o.status = $2'];
      if (q.nodeId) {
        args.push(q.nodeId);
        where.push(`o.node_id = $${args.length}`);
      }
      if (q.key) {
        args.push(toPgText(q.key));
        where.push(`o.key = $${args.length}`);
      }
      if (q.cursor !== undefined) {
        args.push(q.cursor);
        where.push(`o.seq > $${args.length}`);
      }
      args.push(q.limit + 1);
      const { rows } = await this.pool.query<OutcomeRow>(
        `SELECT ${DETAIL_COLUMNS} FROM ${DETAIL_FROM} WHERE ${where.join(' AND ')} ORDER BY o.seq LIMIT $${args.length}`,
        args,
      );
      return page(rows.map(pgOutcome), q.limit, (o) => o.seq);
    }
    let found: PackedOutcome[];
    if (q.key !== undefined) {
      // the key's positions a page at a time, until a page's worth match the status and node too (or
      // the key's positions run out): filtering one page of positions only would end the pages early
      const key = indexedKey(Buffer.from(q.key));
      found = [];
      for (let after = q.cursor ?? -1; found.length <= q.limit; ) {
        const seqs = (
          await this.pool.query<{ seq: number }>(
            `SELECT seq::float8 AS seq FROM outcome_keys WHERE run_id = $1 AND key = $2 AND seq > $3
               ORDER BY seq LIMIT $4`,
            [id, key, after, q.limit + 1],
          )
        ).rows.map((r) => r.seq);
        const at = await this.packs.at(id, seqs);
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
      found = await this.packs.scan(id, { after: q.cursor, status, nodeId: q.nodeId, limit: q.limit + 1 });
    }
    const views = await this.withDetails(id, found.slice(0, q.limit + 1));
    return page(views, q.limit, (o) => o.seq);
  }

  /** Packed outcomes as the API gives them, with the payload and error of those that have a detail row. */
  private async withDetails(runId: number, outcomes: readonly PackedOutcome[]): Promise<RecordOutcomeView[]> {
    if (outcomes.length === 0) return [];
    const first = (outcomes[0] as PackedOutcome).seq;
    const last = (outcomes[outcomes.length - 1] as PackedOutcome).seq;
    // far apart (found by key): the positions themselves rather than a range over every detail row between them
    const { rows } =
      last - first > 4 * outcomes.length
        ? await this.pool.query<OutcomeRow>(
            `SELECT ${DETAIL_COLUMNS} FROM ${DETAIL_FROM} WHERE o.run_id = $1 AND o.seq = ANY($2::bigint[])`,
            [runId, outcomes.filter((o) => o.detail).map((o) => o.seq)],
          )
        : await this.pool.query<OutcomeRow>(
            `SELECT ${DETAIL_COLUMNS} FROM ${DETAIL_FROM} WHERE o.run_id = $1 AND o.seq BETWEEN $2 AND $3`,
            [runId, first, last],
          );
    const details = new Map<number, OutcomeRow>();
    for (const r of rows) details.set(r.seq, r);
    return outcomes.map((o) => {
      const d = details.get(o.seq);
      return d ? pgOutcome(d) : packedView(runId, o);
    });
  }

  /**
   * What happened to one record key in every run of a flow whose outcomes are kept, newest run first:
   * one statement finding the key's positions through `outcome_keys` (keyed key first), with
   * the packed rows holding them and, where there is one, each position's detail row (error, payload).
   */
  async history(flowId: string, key: string, limit: number): Promise<RecordOutcomeView[]> {
    type Row = Omit<PackRow, 'keys'> & { run_id: number; seq: number } & {
      [K in keyof OutcomeRow as `d_${K}`]: OutcomeRow[K] | null;
    };
    // the key is the one asked for: the packed rows' keys are not read
    // a prepared statement: planned once per connection, not at every lookup (its plan is always this one)
    const { rows } = await this.pool.query<Row>({
      name: 'record-history',
      text: `SELECT k.run_id::float8 AS run_id, k.seq::float8 AS seq, p.bucket, p.part, p.count, p.nodes::text AS nodes,
          p.base_at::float8 AS base_at, p.base_batch, p.meta,
          o.key AS d_key, o.status AS d_status, o.node_id AS d_node_id, o.batch_no AS d_batch_no,
          o.attempts AS d_attempts, o.payload AS d_payload, o.at::float8 AS d_at, e.message AS d_message,
          e.code AS d_code, e.http_status AS d_http_status
        FROM (SELECT k.run_id, k.seq FROM outcome_keys k
              JOIN runs r ON r.id = k.run_id AND r.flow_id = $2 AND r.pruned_at IS NULL
              WHERE k.key = $1 ORDER BY k.run_id DESC, k.seq LIMIT $3) k
        JOIN outcome_packs p ON p.run_id = k.run_id AND p.bucket = (k.seq >> ${BUCKET_BITS})::int
        LEFT JOIN outcome_details o ON o.run_id = k.run_id AND o.seq = k.seq
        LEFT JOIN error_messages e ON e.id = o.error_id`,
      values: [indexedKey(Buffer.from(key)), flowId, limit],
    });
    // newest run first, then by position, each position's parts in order (sorted here: a few hundred rows)
    rows.sort((a, b) => b.run_id - a.run_id || a.seq - b.seq || a.part - b.part);
    const found: RecordOutcomeView[] = [];
    for (let i = 0; i < rows.length; ) {
      const first = rows[i] as Row;
      const { run_id: runId, seq } = first;
      // the parts of its bucket, in order: the last that has the position says what it is
      let outcome: PackedOutcome | undefined;
      for (; i < rows.length && rows[i]?.run_id === runId && rows[i]?.seq === seq; i++)
        outcome = find(rows[i] as Row, seq, key) ?? outcome;
      if (!outcome) continue;
      // its detail row, where the packed outcome says it has one
      found.push(
        outcome.detail && first.d_key !== null
          ? pgOutcome({
              run_id: runId,
              seq,
              key: first.d_key,
              status: first.d_status as number,
              node_id: first.d_node_id as string,
              batch_no: first.d_batch_no as number,
              attempts: first.d_attempts as number,
              payload: first.d_payload,
              at: first.d_at as number,
              message: first.d_message,
              code: first.d_code,
              http_status: first.d_http_status,
            })
          : packedView(runId, outcome),
      );
    }
    return found;
  }

  /**
   * Records kept by the collect nodes of a run: with their outcomes, or (a second collect node) on
   * their own. A failed record's output stored without its outcome's payload and error gets them back
   * from the outcome's detail row (see stored-json.ts), so it reads as the collect node kept it.
   */
  async collected(runId: string, q: { nodeId?: string; limit: number; cursor?: number }): Promise<Page<CollectedView>> {
    const id = toId(runId);
    await this.assertExists(id);
    type Kept = { node: string; seq: number; key: string; data: string };
    // the first collect node a record reached: its output is in the record's packed outcome
    const first: Kept[] = (
      await this.packs.scan(id, { after: q.cursor, nodeId: q.nodeId, collected: true, limit: q.limit + 1 })
    ).map((o) => ({ node: o.outputNode as string, seq: o.seq, key: o.key, data: o.output as string }));
    // a second collect node: its own rows, node by node (the table is keyed by run, node and position:
    // each node's rows after the cursor are one range)
    const nodes = q.nodeId !== undefined ? [q.nodeId] : await this.collectNodes(id);
    const byNodes = async (after: number, limit: number): Promise<Kept[]> =>
      nodes.length === 0
        ? []
        : (
            await this.pool.query<Kept>(
              `SELECT c.node_id AS node, c.seq::float8 AS seq, c.key, c.data FROM unnest($2::text[]) AS n(node_id)
                 CROSS JOIN LATERAL (SELECT node_id, seq, key, data FROM collected_records r
                   WHERE r.run_id = $1 AND r.node_id = n.node_id AND r.seq > $3 ORDER BY r.seq LIMIT $4) c`,
              [id, nodes, after, limit],
            )
          ).rows.map((r) => ({ ...r, key: fromPgText(r.key) }));
    const more = await byNodes(q.cursor ?? -1, q.limit + 1);
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
          (await this.packs.scan(id, { after: next, nodeId: q.nodeId, collected: true, limit: 1 })).length > 0 ||
          (await byNodes(next, 1)).length > 0;
      }
    }
    // a failed record's output may stand for its payload and error: those are in its detail row
    const details = new Map<
      number,
      { payload: string | null; message: string | null; code: string | null; http_status: number | null }
    >();
    if (kept.length) {
      const { rows } = await this.pool.query<{
        seq: number;
        payload: string | null;
        message: string | null;
        code: string | null;
        http_status: number | null;
      }>(
        `SELECT o.seq::float8 AS seq, o.payload, e.message, e.code, e.http_status FROM ${DETAIL_FROM}
           WHERE o.run_id = $1 AND o.seq BETWEEN $2 AND $3`,
        [id, (kept[0] as Kept).seq, (kept[kept.length - 1] as Kept).seq],
      );
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
          error: d ? errorView(fromPgTextOrNull(d.message), fromPgTextOrNull(d.code), d.http_status) : null,
        }),
      };
    });
    const last = items[items.length - 1];
    return { items, nextCursor: hasMore && last !== undefined ? String(last.seq) : null };
  }

  /** The nodes that kept records of a run on their own (second collect nodes): one index seek each. */
  private async collectNodes(runId: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ node_id: string }>(
      `WITH RECURSIVE n AS (
         (SELECT node_id FROM collected_records WHERE run_id = $1 ORDER BY node_id LIMIT 1)
         UNION ALL
         SELECT (SELECT c.node_id FROM collected_records c WHERE c.run_id = $1 AND c.node_id > n.node_id
                 ORDER BY c.node_id LIMIT 1)
           FROM n WHERE n.node_id IS NOT NULL)
       SELECT node_id FROM n WHERE node_id IS NOT NULL`,
      [runId],
    );
    return rows.map((r) => r.node_id);
  }

  /** A run's failed records grouped by error and node, most frequent first, each with a few keys. */
  async errorGroups(runId: string, limit: number): Promise<ErrorGroup[]> {
    const id = toId(runId);
    await this.assertExists(id);
    const { rows } = await this.pool.query<{
      node_id: string;
      n: number;
      message: string | null;
      code: string | null;
      http_status: number | null;
      keys: string[];
    }>(
      `SELECT g.node_id, g.n::float8 AS n, e.message, e.code, e.http_status, s.keys
         FROM (SELECT error_id, node_id, count(*) AS n FROM outcome_details
                 WHERE run_id = $1 AND status = 2 GROUP BY error_id, node_id ORDER BY n DESC LIMIT $2) g
         LEFT JOIN error_messages e ON e.id = g.error_id
         CROSS JOIN LATERAL (SELECT coalesce(array_agg(key ORDER BY seq), '{}') AS keys
           FROM (SELECT key, seq FROM outcome_details d WHERE d.run_id = $1 AND d.status = 2
                   AND d.error_id IS NOT DISTINCT FROM g.error_id AND d.node_id = g.node_id
                   ORDER BY d.seq LIMIT 5) k) s
         ORDER BY g.n DESC`,
      [id, limit],
    );
    return rows.map((r) => ({
      message: r.message === null ? '(no message)' : fromPgText(r.message),
      code: fromPgTextOrNull(r.code),
      httpStatus: r.http_status,
      nodeId: r.node_id,
      count: r.n,
      sampleKeys: r.keys.map(fromPgText),
    }));
  }

  /**
   * The failed records of a run after position `after`, in order, for a retry run to feed again: all of
   * them, or, when the retry run was given a selection, those selected, with their replacement payloads.
   */
  async failedForReplay(runId: string, after: number, limit: number, retryRunId?: string): Promise<ReplayRecord[]> {
    type Row = { seq: number; key: string; node_id: string; payload: string | null; replacement?: string | null };
    const selected =
      retryRunId !== undefined &&
      ((await this.pool.query('SELECT 1 FROM retry_selections WHERE run_id = $1 LIMIT 1', [toId(retryRunId)]))
        .rowCount ?? 0) > 0;
    const { rows } = selected
      ? await this.pool.query<Row>(
          `SELECT o.seq::float8 AS seq, o.key, o.node_id, o.payload, s.payload AS replacement FROM retry_selections s
             JOIN outcome_details o ON o.run_id = $1 AND o.seq = s.seq AND o.status = 2
             WHERE s.run_id = $2 AND s.seq > $3 ORDER BY s.seq LIMIT $4`,
          [toId(runId), toId(retryRunId as string), after, limit],
        )
      : await this.pool.query<Row>(
          `SELECT seq::float8 AS seq, key, node_id, payload FROM outcome_details
             WHERE run_id = $1 AND status = 2 AND seq > $2 ORDER BY seq LIMIT $3`,
          [toId(runId), after, limit],
        );
    return rows.map((r) => ({
      ref: r.seq,
      key: fromPgText(r.key),
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
    if (seqs.length === 0) return [];
    const { rows } = await this.pool.query<{ seq: number }>(
      'SELECT seq::float8 AS seq FROM outcome_details WHERE run_id = $1 AND status = 2 AND seq = ANY($2::bigint[])',
      [toId(runId), seqs.filter((s) => Number.isSafeInteger(s))],
    );
    const failed = new Set(rows.map((r) => r.seq));
    return seqs.filter((seq) => !failed.has(seq));
  }
}

/** A run id as stored; one that cannot be a run's is a run that does not exist. */
function toId(id: string): number {
  const n = Number(id);
  if (!Number.isSafeInteger(n) || n <= 0) throw notFound('run', id);
  return n;
}
