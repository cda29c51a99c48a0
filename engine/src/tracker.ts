import type { RecordError, RecordStatus, RunCounts } from '@sluice/shared';
import type { RecordOutcome } from './ports.js';
import type { Item } from './runtime.js';

interface Entry {
  key: string;
  /** Paths of this record still under way (a fan-out gives a record several). */
  pending: number;
  status?: RecordStatus;
  nodeId: string;
  batchNo: number;
  attempts: number;
  error?: RecordError;
  payload?: unknown;
}

/**
 * Follows every record from the moment it is read until all its paths have ended, then yields
 * exactly one outcome for it. A failure on any path makes the record failed; otherwise a success
 * on any path makes it succeeded; a record dropped on every path is filtered.
 */
export class RecordTracker {
  private entries = new Map<number, Entry>();
  private settled: RecordOutcome[] = [];
  readonly counts: RunCounts = { read: 0, succeeded: 0, filtered: 0, failed: 0 };

  constructor(private readonly now: () => number) {}

  read(seq: number, key: string): void {
    this.entries.set(seq, { key, pending: 1, nodeId: '', batchNo: 0, attempts: 0 });
    this.counts.read++;
  }

  /** The item now travels `extra` more paths. */
  fork(item: Item, extra: number): void {
    const entry = this.entries.get(item.seq);
    if (entry) entry.pending += extra;
  }

  /** Marks the record failed at a node (sticky), before its error travels on. */
  fail(item: Item): void {
    const entry = this.entries.get(item.seq);
    if (!entry || entry.status === 'failed') return;
    entry.status = 'failed';
    entry.nodeId = item.failedAt ?? '';
    entry.attempts = item.attempts;
    if (item.error) entry.error = item.error;
    entry.payload = item.payload;
    entry.batchNo = item.batchNo;
  }

  /** One path of the item ends at `nodeId` with `status`. */
  end(item: Item, nodeId: string, status: RecordStatus): void {
    const entry = this.entries.get(item.seq);
    if (!entry) return;
    if (entry.status !== 'failed') {
      if (status === 'failed' || status === 'succeeded' || entry.status === undefined) {
        entry.status = status;
        entry.nodeId = nodeId;
        entry.attempts = item.attempts;
        entry.batchNo = item.batchNo;
      }
    }
    entry.pending--;
    if (entry.pending > 0) return;
    this.entries.delete(item.seq);
    const final = entry.status ?? status;
    this.counts[final]++;
    const outcome: RecordOutcome = {
      seq: item.seq,
      key: entry.key,
      status: final,
      nodeId: entry.nodeId || nodeId,
      batchNo: entry.batchNo,
      attempts: entry.attempts,
      at: this.now(),
    };
    if (entry.error) outcome.error = entry.error;
    if (final === 'failed' && entry.payload !== undefined) outcome.payload = entry.payload;
    this.settled.push(outcome);
  }

  /** Outcomes settled since the last call. */
  take(): RecordOutcome[] {
    const out = this.settled;
    this.settled = [];
    return out;
  }

  /** Records read but not yet settled. */
  get inFlight(): number {
    return this.entries.size;
  }
}
