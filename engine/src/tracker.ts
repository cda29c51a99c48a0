import { emptyRunCounts, type NodeCounts, type RecordError, type RecordStatus, type RunCounts } from '@sluice/shared';
import type { CollectedRecord, RecordOutcome } from './ports.js';
import type { Item } from './runtime.js';

/** Kinds of per-node count a hop adds to, encoded in a hop as `nodeIndex * 4 + kind`. */
export const HOP = { in: 0, out: 1, error: 2, filtered: 3 } as const;
const HOP_KEYS = ['in', 'out', 'error', 'filtered'] as const;

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
  output?: unknown;
  outputNode?: string;
  /** Per-node count increments of the paths that have ended (fan-out only), applied when the record settles. */
  hops: number[] | undefined;
  /** What collect nodes kept of the record's parts, by node, in the order they came. */
  partOutputs?: Map<string, unknown[]>;
}

/**
 * Follows every record from the moment it is read until all its paths have ended, then yields
 * exactly one outcome for it. A failure on any path makes the record failed; otherwise a success
 * on any path makes it succeeded; a record dropped on every path is filtered.
 *
 * Per-node counts are applied when a record settles, so the counts stored with a checkpoint cover
 * exactly the settled records, and a resumed run that re-reads the unsettled ones counts them once.
 */
export class RecordTracker {
  private entries = new InFlight<Entry>();
  private settled: RecordOutcome[] = [];
  /** Parts' lists for collect nodes other than the one whose list goes with the outcome. */
  private collected: CollectedRecord[] = [];
  readonly counts: RunCounts;
  readonly nodeCounts: NodeCounts[];

  constructor(
    private readonly now: () => number,
    readonly nodeIds: readonly string[],
    restored?: { counts: RunCounts; nodeCounts: Record<string, NodeCounts> },
  ) {
    const c = restored?.counts;
    this.counts = c ? { ...c, read: c.succeeded + c.filtered + c.failed + c.cancelled } : emptyRunCounts();
    this.nodeCounts = nodeIds.map((id) => ({ in: 0, out: 0, error: 0, filtered: 0, ...restored?.nodeCounts[id] }));
  }

  read(seq: number, key: string): void {
    this.entries.set(seq, { key, pending: 1, nodeId: '', batchNo: 0, attempts: 0, hops: undefined });
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
    // a part of the record (a split element, an aggregate's group) says which part failed
    if (item.error)
      entry.error =
        item.key === entry.key ? item.error : { ...item.error, message: `${item.key}: ${item.error.message}` };
    entry.payload = item.payload;
    entry.batchNo = item.batchNo;
  }

  /** Why a path of the record was dropped, kept should the record end filtered (the first reason given). */
  reason(item: Item, error: RecordError): void {
    const entry = this.entries.get(item.seq);
    if (entry && entry.error === undefined && entry.status !== 'failed') {
      entry.error = item.key === entry.key ? error : { ...error, message: `${item.key}: ${error.message}` };
    }
  }

  /** Keeps what a collect node kept of the record with its outcome; false when it already has one. */
  setOutput(seq: number, nodeId: string, data: unknown): boolean {
    const entry = this.entries.get(seq);
    if (!entry || entry.outputNode !== undefined) return false;
    entry.output = data;
    entry.outputNode = nodeId;
    return true;
  }

  /** Keeps what a collect node kept of one part of a record, until the record settles. */
  collectPart(seq: number, nodeId: string, data: unknown): void {
    const entry = this.entries.get(seq);
    if (!entry) return;
    entry.partOutputs ??= new Map();
    const list = entry.partOutputs.get(nodeId);
    if (list) list.push(data);
    else entry.partOutputs.set(nodeId, [data]);
  }

  /** One path of the item ends at `nodeId` with `status`. */
  end(item: Item, nodeId: string, status: RecordStatus): void {
    const entry = this.entries.get(item.seq);
    if (!entry) return;
    if (entry.status !== 'failed' && (status === 'failed' || status === 'succeeded' || entry.status === undefined)) {
      entry.status = status;
      entry.nodeId = nodeId;
      entry.attempts = item.attempts;
      entry.batchNo = item.batchNo;
    }
    entry.pending--;
    if (entry.pending > 0) {
      // other paths of this record are still under way: keep this path's hops until it settles
      if (entry.hops) for (const hop of item.hops) entry.hops.push(hop);
      else entry.hops = item.hops.slice();
      return;
    }
    if (entry.hops) for (const hop of item.hops) entry.hops.push(hop);
    this.settle(item.seq, entry, entry.status ?? status, nodeId, entry.hops ?? item.hops);
  }

  /** Settles every record still in flight as `cancelled` (read, but not processed). */
  cancelAll(): void {
    for (const [seq, entry] of [...this.entries.all()]) {
      entry.status = 'cancelled';
      entry.error = { message: 'not processed: the run ended before this record was', code: 'not_processed' };
      this.settle(seq, entry, 'cancelled', entry.nodeId, []);
    }
  }

  private settle(seq: number, entry: Entry, status: RecordStatus, nodeId: string, hops: readonly number[]): void {
    this.entries.delete(seq);
    this.counts[status]++;
    for (const hop of hops) {
      const counts = this.nodeCounts[hop >> 2];
      if (counts) counts[HOP_KEYS[hop & 3] as keyof NodeCounts]++;
    }
    const outcome: RecordOutcome = {
      seq,
      key: entry.key,
      status,
      nodeId: entry.nodeId || nodeId,
      batchNo: entry.batchNo,
      attempts: entry.attempts,
      at: this.now(),
    };
    if (entry.error && status !== 'succeeded') outcome.error = entry.error;
    if (status === 'failed' && entry.payload !== undefined) outcome.payload = entry.payload;
    if (entry.partOutputs && status !== 'cancelled') {
      for (const [node, list] of entry.partOutputs) {
        if (entry.outputNode === undefined) {
          entry.output = list;
          entry.outputNode = node;
        } else this.collected.push({ seq, key: entry.key, nodeId: node, data: list });
      }
    }
    if (entry.outputNode !== undefined && status !== 'cancelled') {
      outcome.output = entry.output;
      outcome.outputNode = entry.outputNode;
    }
    this.settled.push(outcome);
  }

  /** Outcomes settled since the last call. */
  take(): RecordOutcome[] {
    const out = this.settled;
    this.settled = [];
    return out;
  }

  /** Rows for collect nodes that settled records' parts reached, beyond the outcomes' own, since the last call. */
  takeCollected(): CollectedRecord[] {
    const out = this.collected;
    this.collected = [];
    return out;
  }

  /** Records read but not yet settled. */
  get inFlight(): number {
    return this.entries.size;
  }

  /** The lowest sequence number still in flight (entries are kept in read order). */
  lowestInFlight(): number | undefined {
    return this.entries.lowest();
  }

  /**
   * Adds lookups a node answered from its cache. Counted as they happen, not when records settle
   * (a resumed run, whose cache starts empty, counts those of the records it redoes again).
   */
  addCacheHits(nodeIndex: number, n: number): void {
    const counts = this.nodeCounts[nodeIndex];
    if (counts && n > 0) counts.cacheHits = (counts.cacheHits ?? 0) + n;
  }

  nodeCountsById(): Record<string, NodeCounts> {
    const out: Record<string, NodeCounts> = {};
    this.nodeIds.forEach((id, i) => {
      out[id] = { ...(this.nodeCounts[i] as NodeCounts) };
    });
    return out;
  }
}

/**
 * The records in flight by sequence number. Records are read in increasing order (with gaps when a
 * resumed run skips what is settled), so a window of slots from the lowest record in flight holds
 * them: no hashing, and nothing kept for a record once it settles.
 */
export class InFlight<T> {
  private slots: (T | undefined)[] = [];
  /** Sequence number of `slots[0]`. */
  private base = 0;
  /** Index of the first slot that may be in use. */
  private head = 0;
  size = 0;

  set(seq: number, value: T): void {
    if (this.size === 0) {
      this.slots = [];
      this.base = seq;
      this.head = 0;
    }
    const i = seq - this.base;
    if (i < this.head) throw new Error(`record ${seq} read after record ${this.base + this.head}`);
    if (this.slots[i] === undefined) this.size++;
    this.slots[i] = value;
  }

  get(seq: number): T | undefined {
    const i = seq - this.base;
    return i >= this.head ? this.slots[i] : undefined;
  }

  delete(seq: number): void {
    const i = seq - this.base;
    if (i < this.head || this.slots[i] === undefined) return;
    this.slots[i] = undefined;
    this.size--;
    if (i !== this.head) return;
    const slots = this.slots;
    let head = this.head + 1;
    while (head < slots.length && slots[head] === undefined) head++;
    this.head = head;
    if (head >= 1024 && head * 2 >= slots.length) {
      // drop the settled front
      this.slots = slots.slice(head);
      this.base += head;
      this.head = 0;
    }
  }

  /** The lowest sequence number in flight. */
  lowest(): number | undefined {
    return this.size === 0 ? undefined : this.base + this.head;
  }

  /** Every record in flight, in read order. */
  *all(): Generator<[number, T]> {
    for (let i = this.head; i < this.slots.length; i++) {
      const value = this.slots[i];
      if (value !== undefined) yield [this.base + i, value];
    }
  }
}
