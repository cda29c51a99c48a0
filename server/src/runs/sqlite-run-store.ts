import type {
  Checkpoint,
  CollectedRecord,
  RecordOutcome,
  ResumeState,
  RunCommit,
  RunStatusUpdate,
  RunStore,
  Waiting,
} from '@sluice/engine';
import type { NodeCounts, RecordError, RecordStatus } from '@sluice/shared';
import type Database from 'better-sqlite3';
import type { Db } from '../db/open.js';

interface ResumeRow {
  checkpoint: string | null;
  read: number;
  succeeded: number;
  filtered: number;
  failed: number;
  cancelled: number;
  node_counts: string;
}

/** Rows per multi-row INSERT. */
const CHUNK = 50;
/** A run's commits are grouped into one transaction up to this many rows, or this long. */
const GROUP_ROWS = 500;
const GROUP_MS = 50;

export const DEFAULT_PAYLOAD_CAP = 64 * 1024;

export const STATUS_CODE: Record<RecordStatus, number> = { succeeded: 0, filtered: 1, failed: 2, cancelled: 3 };
export const STATUS_NAME: RecordStatus[] = ['succeeded', 'filtered', 'failed', 'cancelled'];

/**
 * The engine's run store over SQLite. Each commit (one batch) is one transaction of prepared
 * statements: outcomes, collected records, the batch row and the run's counts land together or not.
 */
export class SqliteRunStore implements RunStore {
  private readonly client: Database.Database;
  private readonly errorIds = new Map<string, number>();
  private readonly insertOutcome: Database.Statement;
  private readonly insertOutcomes: Database.Statement;
  private readonly insertCollectedMany: Database.Statement;
  private readonly insertCollected: Database.Statement;
  private readonly insertBatch: Database.Statement;
  private readonly updateCounts: Database.Statement;
  private readonly updateStatus: Database.Statement;
  private readonly updateWaiting: Database.Statement;
  private readonly updateFinalCounts: Database.Statement;
  private readonly findError: Database.Statement;
  private readonly insertError: Database.Statement;
  private readonly commitTx: (runId: number, commits: RunCommit[]) => void;
  private readonly pending = new Map<
    string,
    { commits: RunCommit[]; outcomes: number; timer: NodeJS.Timeout | undefined }
  >();

  /** Largest stored payload of a failed record, in characters of JSON; a larger one is cut (and says so). */
  readonly payloadCap: number;

  constructor(db: Db, options: { payloadCap?: number } = {}) {
    this.payloadCap = options.payloadCap ?? DEFAULT_PAYLOAD_CAP;
    const c = db.$client;
    this.client = c;
    this.insertOutcome = c.prepare(
      `INSERT OR REPLACE INTO record_outcomes (run_id, seq, key, status, node_id, batch_no, attempts, error_id, payload, output, output_node, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertOutcomes = c.prepare(
      `INSERT OR REPLACE INTO record_outcomes (run_id, seq, key, status, node_id, batch_no, attempts, error_id, payload, output, output_node, at)
       VALUES ${Array(CHUNK).fill('(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    );
    this.insertCollected = c.prepare(
      'INSERT OR REPLACE INTO collected_records (run_id, node_id, seq, key, data) VALUES (?, ?, ?, ?, ?)',
    );
    this.insertCollectedMany = c.prepare(
      `INSERT OR REPLACE INTO collected_records (run_id, node_id, seq, key, data)
       VALUES ${Array(CHUNK).fill('(?, ?, ?, ?, ?)').join(', ')}`,
    );
    this.insertBatch = c.prepare(
      `INSERT OR REPLACE INTO batches (run_id, batch_no, size, succeeded, filtered, failed, started_at, finished_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.updateCounts = c.prepare(
      `UPDATE runs SET read = ?, succeeded = ?, filtered = ?, failed = ?, cancelled = ?, node_counts = ?, checkpoint = ?
       WHERE id = ?`,
    );
    this.updateWaiting = c.prepare('UPDATE runs SET waiting = ? WHERE id = ?');
    this.updateFinalCounts = c.prepare(
      'UPDATE runs SET read = ?, succeeded = ?, filtered = ?, failed = ?, cancelled = ?, node_counts = ? WHERE id = ?',
    );
    this.updateStatus = c.prepare(
      `UPDATE runs SET status = ?, error = ?,
         waiting = CASE WHEN ? IN ('succeeded', 'failed', 'cancelled') THEN NULL ELSE waiting END,
         started_at = CASE WHEN ? = 'running' AND started_at IS NULL THEN ? ELSE started_at END,
         finished_at = CASE WHEN ? IN ('succeeded', 'failed', 'cancelled') THEN ? ELSE finished_at END
       WHERE id = ?`,
    );
    this.findError = c.prepare('SELECT id FROM error_messages WHERE message = ? AND code IS ? AND http_status IS ?');
    this.insertError = c.prepare('INSERT INTO error_messages (message, code, http_status) VALUES (?, ?, ?)');
    this.commitTx = c.transaction((runId: number, commits: RunCommit[]) => {
      for (const [i, commit] of commits.entries()) this.write(runId, commit, i === commits.length - 1);
    });
  }

  /**
   * Stores a commit. Commits of a run are grouped into one transaction until 1,000 outcomes or 50 ms
   * have gathered (a status change flushes at once): far fewer transactions for fast runs, while a
   * crash loses at most those 50 ms of progress, which the resumed run redoes (writes are idempotent).
   */
  commit(runId: string, commit: RunCommit): void {
    const pending = this.pending.get(runId) ?? { commits: [], outcomes: 0, timer: undefined };
    pending.commits.push(commit);
    pending.outcomes += commit.outcomes.length + commit.collected.length;
    this.pending.set(runId, pending);
    if (pending.outcomes >= GROUP_ROWS) this.flush(runId);
    else pending.timer ??= setTimeout(() => this.flush(runId), GROUP_MS).unref();
  }

  /** Writes the grouped commits of a run (or of every run) in one transaction. */
  flush(runId?: string): void {
    const ids = runId === undefined ? [...this.pending.keys()] : [runId];
    for (const id of ids) {
      const pending = this.pending.get(id);
      if (!pending) continue;
      this.pending.delete(id);
      if (pending.timer) clearTimeout(pending.timer);
      this.commitTx(Number(id), pending.commits);
    }
  }

  setStatus(runId: string, u: RunStatusUpdate): void {
    if (u.status === 'queued') return;
    this.flush(runId);
    const id = Number(runId);
    if (u.counts) {
      const c = u.counts;
      const nodes = JSON.stringify(u.nodeCounts ?? {});
      this.updateFinalCounts.run(c.read, c.succeeded, c.filtered, c.failed, c.cancelled, nodes, id);
    }
    this.updateStatus.run(u.status, u.error ?? null, u.status, u.status, u.at, u.status, u.at, id);
  }

  setWaiting(runId: string, waiting: Waiting | null): void {
    this.flush(runId);
    this.updateWaiting.run(waiting ? JSON.stringify(waiting) : null, Number(runId));
  }

  /** What an interrupted run goes on from: its last checkpoint, the counts stored with it, and what is settled past it. */
  loadResume(runId: string): ResumeState | undefined {
    this.flush(runId);
    const row = this.client
      .prepare('SELECT checkpoint, succeeded, filtered, failed, cancelled, read, node_counts FROM runs WHERE id = ?')
      .get(Number(runId)) as ResumeRow | undefined;
    if (!row?.checkpoint) return undefined;
    const checkpoint = JSON.parse(row.checkpoint) as Checkpoint;
    const settled = this.client
      .prepare('SELECT seq FROM record_outcomes WHERE run_id = ? AND seq >= ?')
      .pluck()
      .all(Number(runId), checkpoint.lowWater) as number[];
    const { read, succeeded, filtered, failed, cancelled } = row;
    return {
      checkpoint,
      counts: { read, succeeded, filtered, failed, cancelled },
      nodeCounts: JSON.parse(row.node_counts) as Record<string, NodeCounts>,
      settled: new Set(settled),
    };
  }

  /** Writes one commit's rows; the run's counts and checkpoint only for the last commit of a group. */
  private write(runId: number, commit: RunCommit, last: boolean): void {
    this.writeOutcomes(runId, commit.outcomes);
    this.writeCollectedRecords(runId, commit.collected);
    const b = commit.batch;
    if (b) this.insertBatch.run(runId, b.batchNo, b.size, b.succeeded, b.filtered, b.failed, b.startedAt, b.finishedAt);
    if (!last) return;
    const c = commit.counts;
    const nodes = JSON.stringify(commit.nodeCounts);
    this.updateCounts.run(
      c.read,
      c.succeeded,
      c.filtered,
      c.failed,
      c.cancelled,
      nodes,
      JSON.stringify(commit.checkpoint),
      runId,
    );
  }

  /** Outcomes in statements of CHUNK rows (far fewer calls into SQLite), the rest one by one. */
  private writeOutcomes(runId: number, outcomes: readonly RecordOutcome[]): void {
    let i = 0;
    if (outcomes.length >= CHUNK) {
      const params: unknown[] = new Array(CHUNK * 12);
      for (; i + CHUNK <= outcomes.length; i += CHUNK) {
        for (let j = 0; j < CHUNK; j++) {
          const o = outcomes[i + j] as RecordOutcome;
          const at = j * 12;
          params[at] = runId;
          params[at + 1] = o.seq;
          params[at + 2] = o.key;
          params[at + 3] = STATUS_CODE[o.status];
          params[at + 4] = o.nodeId;
          params[at + 5] = o.batchNo;
          params[at + 6] = o.attempts;
          params[at + 7] = o.error ? this.errorId(o.error) : null;
          params[at + 8] = o.payload === undefined ? null : this.payloadJson(o.payload);
          params[at + 9] = o.outputNode === undefined ? null : JSON.stringify(o.output ?? null);
          params[at + 10] = o.outputNode ?? null;
          params[at + 11] = o.at;
        }
        this.insertOutcomes.run(params);
      }
    }
    for (; i < outcomes.length; i++) this.writeOutcome(runId, outcomes[i] as RecordOutcome);
  }

  private writeCollectedRecords(runId: number, records: readonly CollectedRecord[]): void {
    let i = 0;
    if (records.length >= CHUNK) {
      const params: unknown[] = new Array(CHUNK * 5);
      for (; i + CHUNK <= records.length; i += CHUNK) {
        for (let j = 0; j < CHUNK; j++) {
          const r = records[i + j] as CollectedRecord;
          const at = j * 5;
          params[at] = runId;
          params[at + 1] = r.nodeId;
          params[at + 2] = r.seq;
          params[at + 3] = r.key;
          params[at + 4] = JSON.stringify(r.data);
        }
        this.insertCollectedMany.run(params);
      }
    }
    for (; i < records.length; i++) this.writeCollected(runId, records[i] as CollectedRecord);
  }

  private writeOutcome(runId: number, o: RecordOutcome): void {
    const errorId = o.error ? this.errorId(o.error) : null;
    const payload = o.payload === undefined ? null : this.payloadJson(o.payload);
    this.insertOutcome.run(
      runId,
      o.seq,
      o.key,
      STATUS_CODE[o.status],
      o.nodeId,
      o.batchNo,
      o.attempts,
      errorId,
      payload,
      o.outputNode === undefined ? null : JSON.stringify(o.output ?? null),
      o.outputNode ?? null,
      o.at,
    );
  }

  private writeCollected(runId: number, r: CollectedRecord): void {
    this.insertCollected.run(runId, r.nodeId, r.seq, r.key, JSON.stringify(r.data));
  }

  /** The payload as stored: its JSON, or within the cap a preview that says how big it was. */
  private payloadJson(payload: unknown): string {
    const json = JSON.stringify(payload) ?? 'null';
    if (json.length <= this.payloadCap) return json;
    return JSON.stringify({
      $truncated: { bytes: Buffer.byteLength(json), cap: this.payloadCap, preview: json.slice(0, this.payloadCap) },
    });
  }

  private errorId(error: RecordError): number {
    const code = error.code ?? null;
    const status = error.httpStatus ?? null;
    const cacheKey = `${code}\u0000${status}\u0000${error.message}`;
    const cached = this.errorIds.get(cacheKey);
    if (cached !== undefined) return cached;
    const found = this.findError.get(error.message, code, status) as { id: number } | undefined;
    const id = found?.id ?? Number(this.insertError.run(error.message, code, status).lastInsertRowid);
    if (this.errorIds.size > 10_000) this.errorIds.clear();
    this.errorIds.set(cacheKey, id);
    return id;
  }

  /** The underlying connection, for queries that read what this store wrote. */
  get connection(): Database.Database {
    return this.client;
  }
}
