import { Worker } from 'node:worker_threads';
import type { Checkpoint, RecordOutcome, ResumeState, RunCommit, RunStatusUpdate, Waiting } from '@sluice/engine';
import { FINAL_RUN_STATUSES, isFinalRunStatus, type NodeCounts } from '@sluice/shared';
import type Database from 'better-sqlite3';
import { createLogger, type Logger } from '../../logger.js';
import { threadScript } from '../../paths.js';
import { writerLag } from '../outcomes/group-queue.js';
import { GroupBuilder, STATUS_CODE, STATUS_NAME } from '../outcomes/write-group.js';
import type { FromWriter, ToWriter, WriterData } from '../outcomes/writer-protocol.js';
import { LeaseLostError, type RunWriteStore, type WriterLag, type WriterStatus } from '../port.js';
import { storedJson, storedOutput } from '../stored-json.js';
import { CONNECTION_PRAGMAS, type Db } from './open.js';
import { OutcomePacks } from './outcome-store.js';

interface ResumeRow {
  checkpoint: string | null;
  read: number;
  succeeded: number;
  filtered: number;
  failed: number;
  cancelled: number;
  node_counts: string;
}

/** A run's commits are grouped and sent to the writer thread up to this many rows or bytes, or this long. */
const GROUP_ROWS = 2_000;
const GROUP_BYTES = 4 * 1024 * 1024;
const GROUP_MS = 50;
/** Rows or bytes sent to the writer and not yet written beyond which a commit waits (bounds memory). */
const MAX_ROWS_IN_FLIGHT = 8_000;
const MAX_BYTES_IN_FLIGHT = 32 * 1024 * 1024;
/**
 * Heap limits of the writer thread, in MB: it decodes one outcome's strings at a time (a payload is
 * at most SLUICE_PAYLOAD_CAP, 16 MB at the most), so little is ever alive in it.
 */
const WRITER_YOUNG_MB = 4;
const WRITER_OLD_MB = 128;

/**
 * How long after a writer thread stopped unasked a new one is started (rather than with the next rows
 * to write); doubled, up to 30 s, while each new one stops within 10 s of its start.
 */
const WRITER_RESTART_MS = 1_000;
const WRITER_RESTART_MAX_MS = 30_000;
const WRITER_SHORT_LIFE_MS = 10_000;

export const DEFAULT_PAYLOAD_CAP = 64 * 1024;

export { STATUS_CODE, STATUS_NAME };
/** The final run statuses as an SQL list, for `status IN (…)`. */
export const FINAL_STATUSES_SQL = FINAL_RUN_STATUSES.map((s) => `'${s}'`).join(', ');

/** Sends the writer thread a message of its protocol; `transfer` moves buffers to it instead of copying them. */
function post(thread: Worker, message: ToWriter, transfer: ArrayBuffer[] = []): void {
  thread.postMessage(message, transfer);
}

interface Pending {
  group: GroupBuilder;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The engine's run store over SQLite. A run's commits (one per batch) are grouped (up to 2,000 rows,
 * 4 MB or 50 ms) and handed to a writer thread with its own connection (outcome-writer.mjs). Each group
 * is written with prepared statements under a savepoint of its own: its outcomes, collected
 * records, batch rows and the run's counts with the checkpoint land together or not at all. The
 * engine goes on with the next batches while the last are written, so on a machine with two cores
 * the cost of storing overlaps with the cost of processing; when the writer falls 8,000 rows
 * or 32 MB behind, the next commit waits.
 *
 * A crash loses the groups not yet written, which a resumed run redoes from the checkpoint written
 * with the last group that was (writes are idempotent). A status change waits until everything the
 * run committed before it is written. A group the writer could not store fails the run's next commit.
 *
 * Fencing: once `fence` gave a run's lease epoch, every write for the run is conditional on the run
 * still carrying that epoch: status and waiting updates here, and each group in the writer thread,
 * whose savepoint first updates the run's row on that condition (a refused group leaves nothing).
 * After a refusal the run's writes all throw `LeaseLostError` and `onLeaseLost` is told once.
 */
export class SqliteRunStore implements RunWriteStore {
  private readonly client: Database.Database;
  private thread: Worker | undefined;
  private checkpointer: Worker | undefined;
  private readonly updateStatus: Database.Statement;
  private readonly updateWaiting: Database.Statement;
  /** The lease epoch of each run this process writes for (from `fence`). */
  private readonly epochs = new Map<string, number>();
  /** Runs whose lease was found lost: `onLeaseLost` was called for them. */
  private readonly lost = new Set<string>();
  onLeaseLost?: (runId: string) => void;
  private readonly updateFinalCounts: Database.Statement;
  private readonly pending = new Map<string, Pending>();
  /** Groups sent to the writer and not yet written: group id → run id, rows, bytes and the thread. */
  private readonly sent = new Map<number, { runId: string; rows: number; bytes: number; thread: Worker; at: number }>();
  private rowsInFlight = 0;
  private bytesInFlight = 0;
  private nextGroup = 1;
  /** Runs whose rows the writer could not store, with why: their next commit fails. */
  private readonly failures = new Map<string, string>();
  private waiters: { ready: () => boolean; resolve: () => void }[] = [];
  private started: { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } | undefined;
  private closed = false;
  /** Whether the current writer thread has said it is ready. */
  private writerUp = false;
  /** When the current writer thread was started (ms). */
  private writerSince = 0;
  /** How the last writer thread stopped unasked, and when its replacement starts. */
  private lastExit: { reason: string; restartAt: number } | undefined;
  private restartDelay = WRITER_RESTART_MS / 2;
  private restart: NodeJS.Timeout | undefined;

  /** Largest stored payload or collected output, in characters of JSON; a larger one is cut (and says so). */
  readonly payloadCap: number;

  private readonly logger: Logger;

  constructor(db: Db, options: { payloadCap?: number; logger?: Logger } = {}) {
    this.payloadCap = options.payloadCap ?? DEFAULT_PAYLOAD_CAP;
    this.logger = options.logger ?? createLogger();
    const c = db.$client;
    this.client = c;
    if (c.memory) throw new Error('the run store needs a database file (its writer thread opens it too)');
    this.updateWaiting = c.prepare('UPDATE runs SET waiting = ? WHERE id = ? AND (? IS NULL OR lease_epoch = ?)');
    this.updateFinalCounts = c.prepare(
      'UPDATE runs SET read = ?, succeeded = ?, filtered = ?, failed = ?, cancelled = ?, node_counts = ? WHERE id = ?',
    );
    this.updateStatus = c.prepare(
      `UPDATE runs SET status = ?, error = ?,
         waiting = CASE WHEN ? IN (${FINAL_STATUSES_SQL}) THEN NULL ELSE waiting END,
         started_at = CASE WHEN ? = 'running' AND started_at IS NULL THEN ? ELSE started_at END,
         finished_at = CASE WHEN ? IN (${FINAL_STATUSES_SQL}) THEN ? ELSE finished_at END
       WHERE id = ? AND (? IS NULL OR lease_epoch = ?)`,
    );
  }

  lag(): WriterLag {
    return writerLag(this.sent.values(), this.pending.values(), this.rowsInFlight, this.bytesInFlight);
  }

  fence(runId: string, epoch: number): void {
    this.epochs.set(runId, epoch);
    this.lost.delete(runId);
  }

  /**
   * Runs an update conditional on the run's lease epoch (when one is known); none changed: another
   * process has claimed the run since, so nothing is stored and the run is reported lost once.
   */
  private fenced(runId: string, update: (epoch: number | null) => Database.RunResult): void {
    if (this.lost.has(runId)) throw new LeaseLostError(runId);
    const epoch = this.epochs.get(runId) ?? null;
    if (update(epoch).changes > 0 || epoch === null) return;
    this.leaseLost(runId);
    throw new LeaseLostError(runId);
  }

  /** Notes that the run's lease has passed to another process, telling `onLeaseLost` once. */
  private leaseLost(runId: string): void {
    if (this.lost.has(runId)) return;
    this.lost.add(runId);
    this.onLeaseLost?.(runId);
  }

  /**
   * Starts the writer thread now rather than with the first rows to write, and resolves once it has
   * opened the database and prepared its statements.
   */
  ready(): Promise<void> {
    const thread = this.writer;
    const started = this.started as NonNullable<typeof this.started>;
    thread.ref();
    const idle = () => {
      if (this.sent.size === 0) thread.unref();
    };
    started.promise.then(idle, idle);
    return started.promise;
  }

  /** The writer thread, started with the first rows to write (or by `ready`). */
  private get writer(): Worker {
    if (this.thread) return this.thread;
    const thread = new Worker(threadScript('storage/sqlite/outcome-writer.mjs'), {
      workerData: { file: this.client.name, pragmas: CONNECTION_PRAGMAS } satisfies WriterData,
      execArgv: [],
      // what it holds is short-lived (the group being written): a small heap is enough
      resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_MB, maxOldGenerationSizeMb: WRITER_OLD_MB },
    });
    let resolve = () => {};
    let reject: (err: Error) => void = () => {};
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => {}); // reported through `ready()` and the run's next commit
    this.started = { promise, resolve, reject };
    this.writerUp = false;
    this.writerSince = Date.now();
    thread.unref();
    thread.on('message', (m: FromWriter) => {
      if ('ready' in m) {
        if (this.thread === thread) this.writerUp = true;
        resolve();
      } else this.written(m);
    });
    // the thread failing or stopping loses what it had not written: those runs fail (the next
    // rows of any run start a new thread)
    thread.on('error', (err) => {
      reject(err);
      this.logger.error({ err }, "the run store's writer thread failed; the runs it was writing fail");
      if (this.thread === thread) this.thread = undefined;
      this.written({ written: this.sentTo(thread), error: `the writer thread failed: ${err.message}` });
    });
    thread.on('exit', (code) => {
      if (this.thread === thread) this.thread = undefined;
      reject(new Error(`the writer thread stopped (exit code ${code})`));
      const lost = this.sentTo(thread);
      if (lost.length) this.written({ written: lost, error: `the writer thread stopped (exit code ${code})` });
      this.replaceWriter(`exit code ${code}`);
    });
    this.thread = thread;
    this.startCheckpointer();
    return thread;
  }

  /**
   * After the writer thread stopped unasked (it failed, ran out of its heap, or was terminated): a new
   * one is started after a moment (sooner if rows come to write), so the store is ready again without
   * waiting for a run. Until it has said it is ready, `writerStatus` says the writer is not alive.
   */
  private replaceWriter(reason: string): void {
    if (this.closed || this.thread || this.restart) return;
    const shortLived = Date.now() - this.writerSince < WRITER_SHORT_LIFE_MS;
    this.restartDelay = shortLived ? Math.min(this.restartDelay * 2, WRITER_RESTART_MAX_MS) : WRITER_RESTART_MS;
    this.lastExit = { reason, restartAt: Date.now() + this.restartDelay };
    this.logger.warn(
      { reason, restartInMs: this.restartDelay },
      "the run store's writer thread stopped; a new one starts shortly",
    );
    this.restart = setTimeout(() => {
      this.restart = undefined;
      if (!this.closed && !this.thread) this.ready().catch(() => {});
    }, this.restartDelay).unref();
  }

  writerStatus(): WriterStatus {
    const lagRows = this.lag().rows;
    if (this.closed) return { alive: false, detail: 'the run store is closed', lagRows };
    const stopped = this.lastExit ? `the last writer thread stopped (${this.lastExit.reason})` : undefined;
    if (this.thread && this.writerUp) return { alive: true, detail: 'the writer thread is running', lagRows };
    if (this.thread) {
      return { alive: false, detail: `the writer thread is starting${stopped ? `; ${stopped}` : ''}`, lagRows };
    }
    if (this.lastExit) {
      const at = new Date(this.lastExit.restartAt).toISOString();
      return { alive: false, detail: `${stopped}; a new one starts at ${at}`, lagRows };
    }
    return { alive: true, detail: 'the writer thread starts with the first rows to write', lagRows };
  }

  /** The writer thread, if one is running: for tests that stop it as a crash of the thread would. */
  get writerThread(): Worker | undefined {
    return this.thread;
  }

  /**
   * The checkpoint thread (checkpointer.mjs), started with the first writer thread: the writer leaves
   * checkpoints (where SQLite waits for the disk) to it. If it fails, connections checkpoint as
   * SQLite does by default (the main one at 1,000 pages), so nothing depends on it but speed.
   */
  private startCheckpointer(): void {
    if (this.checkpointer) return;
    const thread = new Worker(threadScript('storage/sqlite/checkpointer.mjs'), {
      workerData: { file: this.client.name, pragmas: CONNECTION_PRAGMAS } satisfies WriterData,
      execArgv: [],
      resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_MB, maxOldGenerationSizeMb: 16 },
    });
    thread.unref();
    thread.on('error', (err) => this.logger.warn({ err }, "the run store's checkpoint thread failed"));
    thread.on('exit', () => {
      if (this.checkpointer === thread) this.checkpointer = undefined;
    });
    this.checkpointer = thread;
  }

  /**
   * Takes a commit. Commits of a run are grouped until 2,000 rows, 4 MB or 50 ms have gathered (a
   * status change sends at once), then sent to the writer. Waits only when the writer is far behind.
   * Throws once a group of the run could not be stored, or the store is closed.
   */
  commit(runId: string, commit: RunCommit): void | Promise<void> {
    if (this.closed) throw new Error(`the run's records could not be stored: the run store is closed`);
    if (this.lost.has(runId)) throw new LeaseLostError(runId);
    const failure = this.failures.get(runId);
    if (failure !== undefined) throw new Error(`the run's records could not be stored: ${failure}`);
    let pending = this.pending.get(runId);
    if (!pending) {
      pending = { group: new GroupBuilder(this.storedForm), timer: undefined };
      this.pending.set(runId, pending);
    }
    pending.group.add(commit);
    if (pending.group.size >= GROUP_ROWS || pending.group.bytes >= GROUP_BYTES) this.send(runId);
    else pending.timer ??= setTimeout(() => this.send(runId), GROUP_MS).unref();
    if (this.rowsInFlight > MAX_ROWS_IN_FLIGHT || this.bytesInFlight > MAX_BYTES_IN_FLIGHT) {
      return this.until(
        () => this.rowsInFlight <= MAX_ROWS_IN_FLIGHT / 2 && this.bytesInFlight <= MAX_BYTES_IN_FLIGHT / 2,
      );
    }
  }

  /**
   * Sends what a run (or every run) has gathered, and resolves once what was sent until now is
   * written (or refused: see `failures`).
   */
  flush(runId?: string): Promise<void> {
    for (const id of runId === undefined ? [...this.pending.keys()] : [runId]) this.send(id);
    const upTo = this.nextGroup;
    const done = () => {
      for (const [id, s] of this.sent) if (id < upTo && (runId === undefined || s.runId === runId)) return false;
      return true;
    };
    return this.until(done);
  }

  /** Writes what is left and stops the writer thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    clearTimeout(this.restart);
    const stopping: Promise<void>[] = [];
    for (const thread of [this.thread, this.checkpointer]) {
      if (!thread) continue;
      stopping.push(new Promise<void>((resolve) => thread.once('exit', () => resolve())));
      thread.ref();
      post(thread, 'close');
    }
    await Promise.all(stopping);
  }

  /**
   * Records a change of the run's status once its rows are written. A run some of whose rows could
   * not be stored does not end as it says: it is stored `failed` with the reason (its counts stay
   * those of the last group written), and the call throws, so nothing treats the run as done (its
   * watermarks, for one, do not advance). Once the store is closed, nothing is recorded: the run
   * stays as it was stored, to be resumed.
   */
  async setStatus(runId: string, u: RunStatusUpdate): Promise<void> {
    // closed: the process is stopping, and runs left running resume from their checkpoint at the next start
    if (u.status === 'queued' || this.closed) return;
    await this.flush(runId);
    if (this.lost.has(runId)) throw new LeaseLostError(runId);
    const id = Number(runId);
    const failure = this.failures.get(runId);
    if (failure !== undefined && isFinalRunStatus(u.status)) {
      const error = `the run's records could not be stored: ${failure}`;
      this.fenced(runId, (e) =>
        this.updateStatus.run('failed', error, 'failed', 'failed', u.at, 'failed', u.at, id, e, e),
      );
      this.failures.delete(runId);
      this.forget(runId);
      if (this.thread) post(this.thread, { forget: id });
      throw new Error(error);
    }
    // the counts and the status land together, or neither (a lost lease refuses both)
    this.client.transaction(() => {
      this.fenced(runId, (e) =>
        this.updateStatus.run(u.status, u.error ?? null, u.status, u.status, u.at, u.status, u.at, id, e, e),
      );
      if (u.counts) {
        const c = u.counts;
        const nodes = JSON.stringify(u.nodeCounts ?? {});
        this.updateFinalCounts.run(c.read, c.succeeded, c.filtered, c.failed, c.cancelled, nodes, id);
      }
    })();
    if (isFinalRunStatus(u.status)) this.forget(runId);
  }

  /**
   * Stores why the run waits. A refusal (a lost lease) comes back as a rejected promise that is also
   * handled here, because the engine reports waits without awaiting them.
   */
  setWaiting(runId: string, waiting: Waiting | null): Promise<void> {
    if (this.closed) return Promise.resolve();
    try {
      this.fenced(runId, (e) => this.updateWaiting.run(waiting ? JSON.stringify(waiting) : null, Number(runId), e, e));
      return Promise.resolve();
    } catch (err) {
      const refused = Promise.reject(err);
      refused.catch(() => {});
      return refused;
    }
  }

  /** A finished run's epoch is no longer needed. */
  private forget(runId: string): void {
    this.epochs.delete(runId);
    this.lost.delete(runId);
  }

  /**
   * What an interrupted run goes on from: its last checkpoint, the counts stored with it, and what is
   * settled past it. Read when a run is taken up again, when nothing of it is waiting to be written.
   */
  async loadResume(runId: string): Promise<ResumeState | undefined> {
    const row = this.client
      .prepare('SELECT checkpoint, succeeded, filtered, failed, cancelled, read, node_counts FROM runs WHERE id = ?')
      .get(Number(runId)) as ResumeRow | undefined;
    if (!row?.checkpoint) return undefined;
    const checkpoint = JSON.parse(row.checkpoint) as Checkpoint;
    const settled = new OutcomePacks(this.client).seqsFrom(Number(runId), checkpoint.lowWater);
    const { read, succeeded, filtered, failed, cancelled } = row;
    return {
      checkpoint,
      counts: { read, succeeded, filtered, failed, cancelled },
      nodeCounts: JSON.parse(row.node_counts) as Record<string, NodeCounts>,
      settled: new Set(settled),
    };
  }

  private send(runId: string): void {
    const pending = this.pending.get(runId);
    if (!pending) return;
    this.pending.delete(runId);
    if (pending.timer) clearTimeout(pending.timer);
    // a run with rows that could not be stored sends no later rows (nor a checkpoint past them)
    if (this.failures.has(runId)) return;
    if (this.closed) {
      this.failures.set(runId, 'the run store is closed');
      return;
    }
    const rows = pending.group.size;
    const bytes = pending.group.bytes;
    // the group carries the run's lease epoch: the writer thread stores it only while it is still the run's
    const group = pending.group.finish(this.nextGroup++, Number(runId), this.epochs.get(runId));
    const thread = this.writer;
    this.sent.set(group.id, { runId, rows, bytes, thread, at: Date.now() });
    this.rowsInFlight += rows;
    this.bytesInFlight += bytes;
    if (this.sent.size === 1) thread.ref(); // keeps the process alive until the rows are written
    post(thread, group, [group.rows.buffer as ArrayBuffer, group.text]);
  }

  /** Groups sent to a thread and not yet acknowledged by it. */
  private sentTo(thread: Worker): number[] {
    return [...this.sent].filter(([, s]) => s.thread === thread).map(([id]) => id);
  }

  private written(m: { written: number[]; error?: string; leaseLost?: boolean }): void {
    for (const id of m.written) {
      const s = this.sent.get(id);
      if (!s) continue;
      this.sent.delete(id);
      this.rowsInFlight -= s.rows;
      this.bytesInFlight -= s.bytes;
      if (m.leaseLost) {
        // another process holds the run now: not a failure of the run, which goes on there
        this.failures.set(s.runId, m.error ?? 'the lease passed to another process');
        this.leaseLost(s.runId);
      } else if (m.error !== undefined) {
        if (!this.failures.has(s.runId))
          this.runLog(s.runId).error({ error: m.error }, "the run's records could not be stored");
        this.failures.set(s.runId, m.error);
      }
    }
    if (this.sent.size === 0) this.thread?.unref();
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) {
      if (w.ready()) w.resolve();
      else this.waiters.push(w);
    }
  }

  /** A logger for lines about one run, with its run and flow ids (read here: only failures are logged). */
  private runLog(runId: string): Logger {
    let flowId: string | null = null;
    try {
      flowId =
        (this.client.prepare('SELECT flow_id FROM runs WHERE id = ?').pluck().get(Number(runId)) as string) ?? null;
    } catch {
      // the database may be what failed: the line goes out with the run id alone
    }
    return this.logger.child({ runId, flowId });
  }

  private until(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ready, resolve }));
  }

  /**
   * Payloads and collected outputs as stored: their JSON, or within the cap a preview that says how
   * big it was; a failed record's output does not store its outcome's payload and error again.
   */
  private readonly storedForm = {
    payload: (payload: unknown): string => storedJson(payload, this.payloadCap),
    output: (output: unknown, failed: RecordOutcome | undefined): string =>
      storedOutput(output, this.payloadCap, failed),
  };

  /** The underlying connection, for queries that read what this store wrote. */
  get connection(): Database.Database {
    return this.client;
  }
}
