import type { RecordOutcome, RunCommit } from '@sluice/engine';
import { GroupBuilder, type WriteGroup } from './write-group.js';

/** A run's commits are grouped and sent up to this many rows or bytes, or this long. */
export const GROUP_ROWS = 2_000;
export const GROUP_BYTES = 4 * 1024 * 1024;
export const GROUP_MS = 50;
/** Rows or bytes sent and not yet written beyond which a commit waits (bounds memory). */
export const MAX_ROWS_IN_FLIGHT = 8_000;
export const MAX_BYTES_IN_FLIGHT = 32 * 1024 * 1024;

export interface GroupQueueOptions {
  /**
   * Writes a group (all of it or none of it); resolves once it is written, rejects with why it was not.
   * The queue hands over a run's groups in order; see `ordered` for when.
   */
  send(group: WriteGroup, runId: string): Promise<void>;
  /**
   * Whether the transport itself writes a run's groups in the order it was given them and refuses a
   * run's later groups once one failed (a writer thread reading one queue does): then each group is
   * sent as soon as it is made, so several are in flight. Otherwise (false, the default) a run's next
   * group is sent only once the previous one is written, and not at all if it failed: one chain per
   * run, while different runs' groups are written at once.
   */
  ordered?: boolean;
  /** The stored JSON of payloads and collected outputs (capped; see stored-json.ts). */
  stored: {
    payload(payload: unknown): string;
    output(output: unknown, failed: RecordOutcome | undefined): string;
  };
  /** Told once per run the first time one of its groups fails (to log it), with why. */
  onFailure?(runId: string, cause: unknown): void;
  /** The error a refused commit throws: by default, says the run's records could not be stored and why. */
  refusal?(runId: string, cause: unknown): Error;
}

interface Pending {
  group: GroupBuilder;
  timer: NodeJS.Timeout | undefined;
}

/** Why a group was not written, as words. */
export function reasonOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

const defaultRefusal = (_runId: string, cause: unknown) =>
  new Error(`the run's records could not be stored: ${reasonOf(cause)}`);

/**
 * The grouping, back-pressure and failure bookkeeping of a run store, whatever writes the groups. A
 * run's commits (one per batch) are gathered into a `WriteGroup` until 2,000 rows, 4 MB or 50 ms,
 * then sent; the engine goes on with the next batches while the last are written, and waits only
 * once 8,000 rows or 32 MB are sent and not written. A run one of whose groups could not be written
 * has its later groups refused (none is written: a checkpoint stored past missing rows would let a
 * resumed run skip them) and its next commit throws, until the store says the run is over (`forget`).
 */
export class GroupQueue {
  private readonly pending = new Map<string, Pending>();
  /** Groups sent and not yet written or refused: group id → run id, rows, bytes. */
  private readonly sent = new Map<number, { runId: string; rows: number; bytes: number }>();
  /** Each run's last group in the chain (unordered transports): the next is sent once it settles. */
  private readonly chains = new Map<string, Promise<void>>();
  private rowsInFlight = 0;
  private bytesInFlight = 0;
  private nextGroup = 1;
  /** Runs whose rows could not all be written, with why: their next commit fails. */
  private readonly failures = new Map<string, unknown>();
  private waiters: { ready: () => boolean; resolve: () => void }[] = [];
  private isClosed = false;

  constructor(private readonly options: GroupQueueOptions) {}

  /** Whether `close` was called: commits are refused. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Rows handed over and not yet written: gathered, or sent and not yet written (the writer's lag). */
  get lagRows(): number {
    let rows = this.rowsInFlight;
    for (const p of this.pending.values()) rows += p.group.size;
    return rows;
  }

  /** Groups sent and not yet written. */
  get inFlight(): number {
    return this.sent.size;
  }

  /**
   * Takes a commit. Commits of a run are grouped until 2,000 rows, 4 MB or 50 ms have gathered, then
   * sent. Waits only when the writes are far behind. Throws once a group of the run could not be
   * written (`refusal`), or the queue is closed.
   */
  commit(runId: string, commit: RunCommit): void | Promise<void> {
    if (this.isClosed) throw new Error(`the run's records could not be stored: the run store is closed`);
    if (this.failures.has(runId)) throw this.refused(runId);
    let pending = this.pending.get(runId);
    if (!pending) {
      pending = { group: new GroupBuilder(this.options.stored), timer: undefined };
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
   * written (or refused: see `failure`).
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

  /** Sends what is left, waits until it is written, then refuses every commit. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    await this.flush();
    this.isClosed = true;
  }

  /** Why a group of the run could not be written, if one could not. */
  failure(runId: string): unknown {
    return this.failures.get(runId);
  }

  /** Whether a group of the run could not be written. */
  failed(runId: string): boolean {
    return this.failures.has(runId);
  }

  /** The error a commit of a run whose rows could not all be written throws. */
  refused(runId: string): Error {
    return (this.options.refusal ?? defaultRefusal)(runId, this.failures.get(runId));
  }

  /** The run is over: its failure is dropped, and its next groups (a run taken up again) are written. */
  forget(runId: string): void {
    this.failures.delete(runId);
  }

  private send(runId: string): void {
    const pending = this.pending.get(runId);
    if (!pending) return;
    this.pending.delete(runId);
    if (pending.timer) clearTimeout(pending.timer);
    // a run with rows that could not be stored sends no later rows (nor a checkpoint past them)
    if (this.failures.has(runId)) return;
    if (this.isClosed) {
      this.failures.set(runId, new Error('the run store is closed'));
      return;
    }
    const rows = pending.group.size;
    const bytes = pending.group.bytes;
    const group = pending.group.finish(this.nextGroup++, Number(runId));
    this.sent.set(group.id, { runId, rows, bytes });
    this.rowsInFlight += rows;
    this.bytesInFlight += bytes;
    const write = () => {
      let sending: Promise<void>;
      try {
        sending = this.options.send(group, runId);
      } catch (err) {
        sending = Promise.reject(err); // a transport that cannot take it at all (its thread does not start)
      }
      return sending.then(
        () => this.settled(group.id, false),
        (cause: unknown) => this.settled(group.id, true, cause),
      );
    };
    if (this.options.ordered) {
      void write();
      return;
    }
    // one chain per run: the group is sent once the run's previous one is written, and not if it failed
    const previous = this.chains.get(runId) ?? Promise.resolve();
    const next = previous.then(() =>
      this.failures.has(runId) ? this.settled(group.id, true, this.failures.get(runId)) : write(),
    );
    this.chains.set(runId, next);
    void next.then(() => {
      if (this.chains.get(runId) === next) this.chains.delete(runId);
    });
  }

  /** A group was written, or (`failed`) was not, for `cause`. */
  private settled(id: number, failed: boolean, cause?: unknown): void {
    const s = this.sent.get(id);
    if (!s) return;
    this.sent.delete(id);
    this.rowsInFlight -= s.rows;
    this.bytesInFlight -= s.bytes;
    if (failed && !this.failures.has(s.runId)) {
      this.failures.set(s.runId, cause);
      this.options.onFailure?.(s.runId, cause);
    }
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) {
      if (w.ready()) w.resolve();
      else this.waiters.push(w);
    }
  }

  /** Resolves once `ready` holds (checked each time a group settles). */
  until(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ready, resolve }));
  }
}
