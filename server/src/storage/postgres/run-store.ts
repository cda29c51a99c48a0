import type { Checkpoint, RecordOutcome, ResumeState, RunCommit, RunStatusUpdate, Waiting } from '@sluice/engine';
import { FINAL_RUN_STATUSES, isFinalRunStatus, type NodeCounts, type RecordError } from '@sluice/shared';
import type pg from 'pg';
import { createLogger, type Logger } from '../../logger.js';
import { FIELDS, SEQ } from '../outcomes/group-layout.mjs';
import { GroupQueue, reasonOf } from '../outcomes/group-queue.js';
import { BUCKET_BITS, mergeParts, type PackRow, unpack } from '../outcomes/outcome-pack.mjs';
import { type EarlierParts, type PackSink, packGroup } from '../outcomes/pack-group.mjs';
import type { WriteGroup } from '../outcomes/write-group.js';
import { LeaseLostError, type RunWriteStore, type WriterLag, type WriterStatus } from '../port.js';
import { storedJson, storedOutput } from '../stored-json.js';
import type { PgDb } from './db.js';
import { indexedKey, PACK_COLUMNS, PgPacks } from './packs.js';
import { fromPgJson, toPgJsonText, toPgText, toPgTextOrNull } from './pg-text.js';

export const DEFAULT_PAYLOAD_CAP = 64 * 1024;

const BUCKET = 2 ** BUCKET_BITS;

/** The final run statuses as an SQL list, for `status IN (…)`. */
const FINAL_STATUSES_SQL = FINAL_RUN_STATUSES.map((s) => `'${s}'`).join(', ');

/**
 * The rows of one write group, gathered column by column as the packer hands them over
 * (pack-group.mjs), to be written with one multi-row statement per table (`unnest` of arrays: one
 * round trip and one plan whatever the group's size).
 */
class GroupRows implements PackSink {
  readonly packs = {
    bucket: [] as number[],
    part: [] as number[],
    count: [] as number[],
    statuses: [] as number[],
    nodes: [] as string[],
    baseAt: [] as number[],
    baseBatch: [] as number[],
    meta: [] as Buffer[],
    keys: [] as Buffer[],
  };
  readonly outputRows = { bucket: [] as number[], part: [] as number[], outputs: [] as Buffer[] };
  readonly keyRows = { key: [] as Buffer[], seq: [] as number[] };
  readonly details = {
    seq: [] as number[],
    status: [] as number[],
    key: [] as string[],
    node: [] as string[],
    batch: [] as number[],
    attempts: [] as number[],
    errorId: [] as (number | null)[],
    payload: [] as (string | null)[],
    at: [] as number[],
  };
  /** Detail rows of positions stored before, to delete; and key rows of those whose key was another. */
  readonly forgotten = { seq: [] as number[], keySeq: [] as number[], key: [] as Buffer[] };

  constructor(private readonly before: Map<number, EarlierParts>) {}

  earlier(bucket: number): EarlierParts {
    return this.before.get(bucket) ?? { part: 0 };
  }

  forgetEarlier(seq: number, earlierKey: Uint8Array | null): void {
    this.forgotten.seq.push(seq);
    if (earlierKey !== null) {
      this.forgotten.keySeq.push(seq);
      this.forgotten.key.push(indexedKey(Buffer.from(earlierKey)));
    }
  }

  key(key: Buffer, seq: number): void {
    this.keyRows.key.push(indexedKey(key));
    this.keyRows.seq.push(seq);
  }

  detail(
    seq: number,
    status: number,
    key: string,
    node: string,
    batch: number,
    attempts: number,
    errorId: number | null,
    payload: string | null,
    at: number,
  ): void {
    const d = this.details;
    d.seq.push(seq);
    d.status.push(status);
    d.key.push(key);
    d.node.push(node);
    d.batch.push(batch);
    d.attempts.push(attempts);
    d.errorId.push(errorId);
    d.payload.push(payload);
    d.at.push(at);
  }

  pack(
    bucket: number,
    part: number,
    count: number,
    statuses: number,
    nodes: string,
    baseAt: number,
    baseBatch: number,
    meta: Buffer,
    keys: Buffer,
  ): void {
    const p = this.packs;
    p.bucket.push(bucket);
    p.part.push(part);
    p.count.push(count);
    p.statuses.push(statuses);
    p.nodes.push(nodes);
    p.baseAt.push(baseAt);
    p.baseBatch.push(baseBatch);
    p.meta.push(meta);
    p.keys.push(keys);
  }

  outputs(bucket: number, part: number, outputs: Buffer): void {
    this.outputRows.bucket.push(bucket);
    this.outputRows.part.push(part);
    this.outputRows.outputs.push(outputs);
  }
}

/** An error message's key in the id cache (its text as stored). */
const errorKey = (message: string, code: string | null, httpStatus: number | null) =>
  `${code}\u0000${httpStatus}\u0000${message}`;
const keyOf = (e: RecordError) =>
  errorKey(toPgText(e.message), e.code === undefined ? null : toPgText(e.code), e.httpStatus ?? null);

/**
 * Whether a statement failed for its connection rather than for what it asked: the connection ended
 * (no SQLSTATE), a connection exception (class 08), the server ending the session (class 57P, an
 * operator's or a restart's) or ending it for idling inside a transaction (25P03).
 */
function connectionFailed(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return err instanceof Error;
  return code.startsWith('08') || code.startsWith('57P') || code === '25P03';
}

/** The buckets a group's outcomes fall in. */
function bucketsOf(g: WriteGroup): number[] {
  const buckets = new Set<number>();
  for (let i = 0; i < g.count; i++) buckets.add(Math.floor((g.rows[i * FIELDS + SEQ] as number) / BUCKET));
  return [...buckets];
}

/**
 * The engine's run store over PostgreSQL, many processes writing to one database. Commits are grouped
 * and bounded as in SQLite (GroupQueue: 2,000 rows, 4 MB or 50 ms a group; a commit waits past 8,000
 * rows or 32 MB not yet written); each group is written in one transaction of its own on a pooled
 * connection, a run's groups one after the other, different runs' at once.
 *
 * Fencing: a run this process holds a lease on is `fence`d with the lease's epoch, and every write
 * for it (a group, a status change, a waiting update) first updates the run's row on the condition
 * that its `lease_epoch` is still that epoch. The row lock that update takes orders the write with any
 * claim of the run by another process: either the write lands before the claim raises the epoch, or
 * it finds the epoch raised and stores nothing (`LeaseLostError`, `onLeaseLost` called once). A write
 * that fails otherwise (its connection ended under it) for a run whose epoch has moved on meanwhile
 * is reported the same way: the run is the new holder's, and the failed write stored nothing.
 *
 * A crash loses the groups not yet written, which a resumed run redoes from the checkpoint written
 * with the last group that was: a group written again replaces what it wrote before.
 */
export class PgRunStore implements RunWriteStore {
  private readonly pool: pg.Pool;
  private readonly queue: GroupQueue;
  private readonly logger: Logger;
  /** The lease epoch each fenced run's writes carry. */
  private readonly epochs = new Map<string, number>();
  /** The last update of each run's row under way (see `inOrder`). */
  private readonly rowWrites = new Map<string, Promise<void>>();
  /** Runs whose lease was found lost (onLeaseLost called). */
  private readonly lost = new Set<string>();
  /** error_messages ids by code, status and message, as stored by committed transactions. */
  private readonly errorIds = new Map<string, number>();
  private closed = false;

  /** Largest stored payload or collected output, in characters of JSON; a larger one is cut (and says so). */
  readonly payloadCap: number;
  onLeaseLost?: (runId: string) => void;

  constructor(db: PgDb, options: { payloadCap?: number; logger?: Logger; onLeaseLost?: (runId: string) => void } = {}) {
    this.pool = db.$client;
    this.payloadCap = options.payloadCap ?? DEFAULT_PAYLOAD_CAP;
    this.logger = options.logger ?? createLogger();
    this.onLeaseLost = options.onLeaseLost;
    this.queue = new GroupQueue({
      send: (group, runId) => this.write(group, runId),
      stored: {
        payload: (payload: unknown): string => storedJson(payload, this.payloadCap),
        output: (output: unknown, failed: RecordOutcome | undefined): string =>
          storedOutput(output, this.payloadCap, failed),
      },
      onFailure: (runId, cause) => {
        if (cause instanceof LeaseLostError) this.logger.warn({ runId }, cause.message);
        else this.logger.error({ runId, error: reasonOf(cause) }, "the run's records could not be stored");
      },
      refusal: (runId, cause) =>
        cause instanceof LeaseLostError
          ? new LeaseLostError(runId)
          : new Error(`the run's records could not be stored: ${reasonOf(cause)}`),
    });
  }

  /** Resolves once the database answers. */
  async ready(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  fence(runId: string, epoch: number): void {
    this.epochs.set(runId, epoch);
    // a run taken (again) under a new lease writes again
    if (this.lost.delete(runId) || this.queue.failure(runId) instanceof LeaseLostError) this.queue.forget(runId);
  }

  commit(runId: string, commit: RunCommit): void | Promise<void> {
    return this.queue.commit(runId, commit);
  }

  lag(): WriterLag {
    return this.queue.lag();
  }

  flush(runId?: string): Promise<void> {
    return this.queue.flush(runId);
  }

  writerStatus(): WriterStatus {
    if (this.closed || this.queue.closed) return { alive: false, detail: 'the run store is closed', lagRows: 0 };
    return { alive: true, detail: 'writes through the pool', lagRows: this.queue.lag().rows };
  }

  /** Writes what is left; every later write is refused (a status change is not recorded). */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue.close();
    this.closed = true;
  }

  /**
   * Records a change of the run's status once its rows are written, with its final counts. A run
   * some of whose rows could not be stored does not end as it says: it is stored `failed` with the
   * reason (its counts those of the last group written), and the call throws, as in SQLite. A run
   * whose lease is lost stores nothing and throws `LeaseLostError`. Once the store is closed, nothing
   * is recorded: the run stays as it was stored, to be resumed.
   */
  async setStatus(runId: string, u: RunStatusUpdate): Promise<void> {
    if (u.status === 'queued' || this.closed) return;
    await this.flush(runId);
    const failure = this.queue.failure(runId);
    if (failure instanceof LeaseLostError) throw new LeaseLostError(runId);
    if (this.queue.failed(runId) && isFinalRunStatus(u.status)) {
      const error = `the run's records could not be stored: ${reasonOf(failure)}`;
      await this.inOrder(runId, () => this.updateRun(runId, 'failed', error, u.at, undefined));
      this.queue.forget(runId);
      throw new Error(error);
    }
    await this.inOrder(runId, () => this.updateRun(runId, u.status, u.error ?? null, u.at, u));
  }

  /**
   * What a write for a fenced run that failed otherwise than by its fence (its connection ended
   * under it, say: a session PostgreSQL ended while the process was frozen inside the write's
   * transaction) throws: `LeaseLostError` (`onLeaseLost` called) when the run's lease epoch has
   * meanwhile moved on, as for a refused write, since the run is another process's now and nothing
   * of this one's was stored; else the failure itself. Asked on a connection of its own.
   */
  private async lostOr(runId: string, err: unknown): Promise<unknown> {
    const epoch = this.epochs.get(runId);
    if (err instanceof LeaseLostError || epoch === undefined) return err;
    try {
      const { rows } = await this.pool.query<{ epoch: string }>('SELECT lease_epoch AS epoch FROM runs WHERE id = $1', [
        Number(runId),
      ]);
      const now = rows[0]?.epoch;
      return now !== undefined && Number(now) !== epoch ? this.leaseLost(runId) : err;
    } catch {
      return err; // the database cannot say: the failure stands
    }
  }

  /**
   * Runs updates of a run's row one after another, in the order they were asked for: the engine
   * reports a wait without awaiting it, and a wait written after the status that ended the run
   * would leave a finished run "waiting". One that fails for a run taken over meanwhile throws
   * `LeaseLostError` (see `lostOr`).
   */
  private inOrder(runId: string, write: () => Promise<void>): Promise<void> {
    const before = this.rowWrites.get(runId) ?? Promise.resolve();
    // a failed connection (the run still this process's): once more, as a group is; the update is conditional, so idempotent
    const guarded = () =>
      write()
        .catch(async (err: unknown) => {
          const failure = await this.lostOr(runId, err);
          if (failure instanceof LeaseLostError || !connectionFailed(err)) throw failure;
          return write();
        })
        .catch(async (err: unknown) => {
          throw await this.lostOr(runId, err);
        });
    const next = before.then(guarded, guarded);
    const settled = next.then(
      () => {},
      () => {},
    );
    this.rowWrites.set(runId, settled);
    void settled.then(() => {
      if (this.rowWrites.get(runId) === settled) this.rowWrites.delete(runId);
    });
    return next;
  }

  /**
   * Records why the run waits. The engine does not wait for this (it shows a wait as it begins), so
   * the promise is never left unhandled: a lost lease still rejects whoever awaits it, and has called
   * `onLeaseLost`, which stops the run; any other failure is logged.
   */
  setWaiting(runId: string, waiting: Waiting | null): Promise<void> {
    const written = this.inOrder(runId, () => this.writeWaiting(runId, waiting));
    written.catch((err: unknown) => {
      if (!(err instanceof LeaseLostError))
        this.logger.warn({ runId, error: reasonOf(err) }, "the run's wait could not be recorded");
    });
    return written;
  }

  private async writeWaiting(runId: string, waiting: Waiting | null): Promise<void> {
    if (this.closed) return;
    const epoch = this.epochs.get(runId);
    const args: unknown[] = [Number(runId), waiting ? JSON.stringify(waiting) : null];
    if (epoch !== undefined) args.push(epoch);
    const result = await this.pool.query(
      `UPDATE runs SET waiting = $2::jsonb WHERE id = $1${epoch === undefined ? '' : ' AND lease_epoch = $3'}`,
      args,
    );
    if (epoch !== undefined && result.rowCount === 0) throw this.leaseLost(runId);
  }

  /**
   * What an interrupted run goes on from: its last checkpoint, the counts stored with it, and what is
   * settled past its low-water mark. Read when a run is taken up again, when nothing of it is waiting
   * to be written.
   */
  async loadResume(runId: string): Promise<ResumeState | undefined> {
    const { rows } = await this.pool.query<{
      checkpoint: Checkpoint | null;
      read: string;
      succeeded: string;
      filtered: string;
      failed: string;
      cancelled: string;
      node_counts: Record<string, NodeCounts>;
    }>('SELECT checkpoint, read, succeeded, filtered, failed, cancelled, node_counts FROM runs WHERE id = $1', [
      Number(runId),
    ]);
    const row = rows[0];
    if (!row?.checkpoint) return undefined;
    row.checkpoint = fromPgJson(row.checkpoint);
    const settled = await new PgPacks(this.pool).seqsFrom(Number(runId), row.checkpoint.lowWater);
    return {
      checkpoint: row.checkpoint,
      counts: {
        read: Number(row.read),
        succeeded: Number(row.succeeded),
        filtered: Number(row.filtered),
        failed: Number(row.failed),
        cancelled: Number(row.cancelled),
      },
      nodeCounts: row.node_counts,
      settled: new Set(settled),
    };
  }

  /** The lease on a run is lost: `onLeaseLost` once, and the error its writes throw. */
  private leaseLost(runId: string): LeaseLostError {
    if (!this.lost.has(runId)) {
      this.lost.add(runId);
      this.onLeaseLost?.(runId);
    }
    return new LeaseLostError(runId);
  }

  /** The run's status (and final counts), on the condition of its lease when it is fenced. */
  private async updateRun(
    runId: string,
    status: string,
    error: string | null,
    at: number,
    final: RunStatusUpdate | undefined,
  ): Promise<void> {
    const args: unknown[] = [Number(runId), status, toPgTextOrNull(error), at];
    let counts = '';
    if (final?.counts) {
      const c = final.counts;
      args.push(c.read, c.succeeded, c.filtered, c.failed, c.cancelled, JSON.stringify(final.nodeCounts ?? {}));
      counts = `, read = $5, succeeded = $6, filtered = $7, failed = $8, cancelled = $9, node_counts = $10::jsonb`;
    }
    const epoch = this.epochs.get(runId);
    if (epoch !== undefined) args.push(epoch);
    const result = await this.pool.query(
      `UPDATE runs SET status = $2::text, error = $3::text${counts},
         waiting = CASE WHEN $2::text IN (${FINAL_STATUSES_SQL}) THEN NULL ELSE waiting END,
         started_at = CASE WHEN $2::text = 'running' AND started_at IS NULL THEN $4::bigint ELSE started_at END,
         finished_at = CASE WHEN $2::text IN (${FINAL_STATUSES_SQL}) THEN $4::bigint ELSE finished_at END
       WHERE id = $1${epoch === undefined ? '' : ` AND lease_epoch = $${args.length}`}`,
      args,
    );
    if (epoch !== undefined && result.rowCount === 0) throw this.leaseLost(runId);
  }

  /**
   * Writes one group in one transaction: the run's counts and checkpoint first (on the condition of
   * its lease: nothing else is written when it is lost), then its error messages, packed rows, key,
   * detail and output rows, collected records and batches, one statement per table.
   */
  private async write(g: WriteGroup, runId: string, again = true): Promise<void> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      // ids of messages this transaction inserts: known to other groups only once it commits
      const made = new Map<string, number>();
      try {
        await this.writeGroup(client, g, runId, made);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
      if (this.errorIds.size > 10_000) this.errorIds.clear();
      for (const [key, errorId] of made) this.errorIds.set(key, errorId);
    } catch (err) {
      if (!(err instanceof LeaseLostError) && !(err as { code?: string }).code) broken = err as Error;
      client.release(broken);
      const failure = await this.lostOr(runId, err);
      // the connection failed under the write (its session ended while the process was frozen, the
      // server restarted) and the run is still this process's: once more on a fresh connection. Safe
      // whether or not the first attempt committed: a group written again replaces what it wrote.
      if (again && !(failure instanceof LeaseLostError) && connectionFailed(err)) return this.write(g, runId, false);
      throw failure;
    }
    client.release();
  }

  private async writeGroup(
    client: pg.PoolClient,
    g: WriteGroup,
    runId: string,
    made: Map<string, number>,
  ): Promise<void> {
    const id = Number(runId);
    const epoch = this.epochs.get(runId);
    const c = g.counts;
    const args: unknown[] = [id, c[0], c[1], c[2], c[3], c[4], g.nodeCounts, toPgJsonText(g.checkpoint)];
    if (epoch !== undefined) args.push(epoch);
    const updated = await client.query(
      `UPDATE runs SET read = $2, succeeded = $3, filtered = $4, failed = $5, cancelled = $6,
         node_counts = $7::jsonb, checkpoint = $8::jsonb
       WHERE id = $1${epoch === undefined ? '' : ' AND lease_epoch = $9'}`,
      args,
    );
    if (epoch !== undefined && updated.rowCount === 0) throw this.leaseLost(runId);

    const errors = await this.errorIdsOf(client, g.errors, made);
    const before = await this.earlierParts(client, id, g);
    const rows = new GroupRows(before);
    packGroup(g, errors, rows);

    const f = rows.forgotten;
    if (f.seq.length) {
      await client.query('DELETE FROM outcome_details WHERE run_id = $1 AND seq = ANY($2::bigint[])', [id, f.seq]);
      if (f.keySeq.length)
        await client.query(
          `DELETE FROM outcome_keys k USING unnest($2::bytea[], $3::bigint[]) AS d(key, seq)
             WHERE k.run_id = $1 AND k.key = d.key AND k.seq = d.seq`,
          [id, f.key, f.keySeq],
        );
    }
    const p = rows.packs;
    if (p.bucket.length)
      await client.query(
        `INSERT INTO outcome_packs (run_id, bucket, part, count, statuses, nodes, base_at, base_batch, meta, keys)
         SELECT $1, bucket, part, count, statuses, nodes::jsonb, base_at, base_batch, meta, keys
           FROM unnest($2::int[], $3::int[], $4::int[], $5::int[], $6::text[], $7::bigint[], $8::int[], $9::bytea[],
             $10::bytea[]) AS t(bucket, part, count, statuses, nodes, base_at, base_batch, meta, keys)`,
        [id, p.bucket, p.part, p.count, p.statuses, p.nodes, p.baseAt, p.baseBatch, p.meta, p.keys],
      );
    const o = rows.outputRows;
    if (o.bucket.length)
      await client.query(
        `INSERT INTO outcome_outputs (run_id, bucket, part, outputs)
         SELECT $1, * FROM unnest($2::int[], $3::int[], $4::bytea[])`,
        [id, o.bucket, o.part, o.outputs],
      );
    const k = rows.keyRows;
    if (k.seq.length)
      // the whole row is the key: one stored before (a group written again) is already as it should be
      await client.query(
        `INSERT INTO outcome_keys (run_id, key, seq) SELECT $1, * FROM unnest($2::bytea[], $3::bigint[])
           ON CONFLICT DO NOTHING`,
        [id, k.key, k.seq],
      );
    const d = rows.details;
    if (d.seq.length)
      await client.query(
        `INSERT INTO outcome_details (run_id, seq, status, key, node_id, batch_no, attempts, error_id, payload, at)
         SELECT $1, * FROM unnest($2::bigint[], $3::int[], $4::text[], $5::text[], $6::int[], $7::int[], $8::bigint[],
           $9::text[], $10::bigint[])
         ON CONFLICT (run_id, seq) DO UPDATE SET status = excluded.status, key = excluded.key,
           node_id = excluded.node_id, batch_no = excluded.batch_no, attempts = excluded.attempts,
           error_id = excluded.error_id, payload = excluded.payload, at = excluded.at`,
        [id, d.seq, d.status, d.key.map(toPgText), d.node, d.batch, d.attempts, d.errorId, d.payload, d.at],
      );
    if (g.collected.length) {
      // a record kept twice by one node in the group: the later stands (one statement may not touch a row twice)
      const kept = new Map<string, WriteGroup['collected'][number]>();
      for (const r of g.collected) kept.set(`${r.seq}\u0000${r.nodeId}`, r);
      const list = [...kept.values()];
      await client.query(
        `INSERT INTO collected_records (run_id, node_id, seq, key, data)
         SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[])
         ON CONFLICT (run_id, node_id, seq) DO UPDATE SET key = excluded.key, data = excluded.data`,
        [
          id,
          list.map((r) => r.nodeId),
          list.map((r) => r.seq),
          list.map((r) => toPgText(r.key)),
          list.map((r) => r.data),
        ],
      );
    }
    if (g.batches.length) {
      const list = [...new Map(g.batches.map((b) => [b.batchNo, b])).values()];
      await client.query(
        `INSERT INTO batches (run_id, batch_no, size, succeeded, filtered, failed, started_at, finished_at)
         SELECT $1, * FROM unnest($2::int[], $3::int[], $4::int[], $5::int[], $6::int[], $7::bigint[], $8::bigint[])
         ON CONFLICT (run_id, batch_no) DO UPDATE SET size = excluded.size, succeeded = excluded.succeeded,
           filtered = excluded.filtered, failed = excluded.failed, started_at = excluded.started_at,
           finished_at = excluded.finished_at`,
        [
          id,
          list.map((b) => b.batchNo),
          list.map((b) => b.size),
          list.map((b) => b.succeeded),
          list.map((b) => b.filtered),
          list.map((b) => b.failed),
          list.map((b) => b.startedAt),
          list.map((b) => b.finishedAt ?? null),
        ],
      );
    }
  }

  /**
   * The parts the group's buckets already have, read in one query before packing: the part each
   * bucket's new row takes, and the keys of the positions stored there (a position stored again
   * leaves nothing of its earlier write behind).
   */
  private async earlierParts(client: pg.PoolClient, runId: number, g: WriteGroup): Promise<Map<number, EarlierParts>> {
    const { rows } = await client.query<PackRow>(
      `SELECT ${PACK_COLUMNS} FROM outcome_packs p WHERE p.run_id = $1 AND p.bucket = ANY($2::int[])
         ORDER BY p.bucket, p.part`,
      [runId, bucketsOf(g)],
    );
    const before = new Map<number, EarlierParts>();
    for (let i = 0; i < rows.length; ) {
      const bucket = (rows[i] as PackRow).bucket;
      let j = i;
      while (j < rows.length && (rows[j] as PackRow).bucket === bucket) j++;
      const parts = rows.slice(i, j);
      i = j;
      before.set(bucket, {
        part: Math.max(...parts.map((r) => r.part)) + 1,
        keys: new Map(mergeParts(parts.map(unpack)).map((o) => [o.seq, Buffer.from(o.key)])),
      });
    }
    return before;
  }

  /**
   * The id in error_messages of each of the group's errors, made the first time a message is seen.
   * `INSERT … ON CONFLICT DO NOTHING` over the unique (message, code, http_status), nulls not
   * distinct: two processes storing one new message at once store it once (the second waits for the
   * first's transaction, then finds its row). New messages are inserted in one order, so two
   * transactions never wait for each other's.
   */
  private async errorIdsOf(
    client: pg.PoolClient,
    errors: readonly RecordError[],
    made: Map<string, number>,
  ): Promise<(number | null)[]> {
    if (errors.length === 0) return [];
    const missing = new Map<string, RecordError>();
    for (const e of errors) {
      const key = keyOf(e);
      if (!this.errorIds.has(key)) missing.set(key, e);
    }
    if (missing.size) {
      const list = [...missing.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e);
      const messages = list.map((e) => toPgText(e.message));
      const codes = list.map((e) => (e.code === undefined ? null : toPgText(e.code)));
      const statuses = list.map((e) => e.httpStatus ?? null);
      await client.query(
        `INSERT INTO error_messages (message, code, http_status)
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[]) ON CONFLICT DO NOTHING`,
        [messages, codes, statuses],
      );
      const { rows } = await client.query<{
        id: string;
        message: string;
        code: string | null;
        http_status: number | null;
      }>(
        `SELECT e.id, e.message, e.code, e.http_status FROM error_messages e
           JOIN unnest($1::text[], $2::text[], $3::int[]) AS t(message, code, http_status)
             ON e.message = t.message AND e.code IS NOT DISTINCT FROM t.code
             AND e.http_status IS NOT DISTINCT FROM t.http_status`,
        [messages, codes, statuses],
      );
      for (const r of rows) made.set(errorKey(r.message, r.code, r.http_status), Number(r.id));
    }
    return errors.map((e) => {
      const key = keyOf(e);
      return this.errorIds.get(key) ?? made.get(key) ?? null;
    });
  }
}
