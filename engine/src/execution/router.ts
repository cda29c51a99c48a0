import type { RecordError } from '@sluice/shared';
import { recordKey } from '../record-key.js';
import type { Item } from '../runtime.js';
import { HOP } from '../tracker.js';
import type { Checkpoints } from './checkpoints.js';
import type { Commits } from './commits.js';
import type { LiveNode } from './graph.js';
import type { RunState } from './state.js';
import { LimitReached } from './test-run.js';

/**
 * Moves records along the graph: reads a source's pages into the run, sends items out of a port to
 * every node it feeds (back-pressure is the call stack), and ends a record's path where it ends.
 */
export class Router {
  constructor(
    private readonly state: RunState,
    private readonly commits: Commits,
    private readonly checkpoints: Checkpoints,
    private readonly settings: { onError: 'continue' | 'stop'; maxInFlight: number },
    private readonly hash: (text: string) => string,
  ) {}

  /**
   * Sends items out of a port and resolves when everything downstream has finished with them. Items
   * in `uncounted` (the parts of a record after its first, records a node made) add nothing to the
   * node's counts.
   */
  async emit(from: LiveNode, port: string, items: Item[], uncounted?: ReadonlySet<Item>): Promise<void> {
    await this.state.boundary();
    const hop = from.index * 4 + (port === 'error' ? HOP.error : HOP.out);
    for (const item of items) if (item.seq >= 0 && !uncounted?.has(item)) item.hops.push(hop);
    this.state.capture?.sent(from.node.id, port, items);
    const targets = from.ports.get(port) ?? [];
    if (targets.length === 0) {
      if (port === 'error') this.failedWithNowhereToGo(from, items);
      else this.end(from, items, 'succeeded');
    } else {
      if (targets.length > 1) for (const item of items) this.state.tracker.fork(item, targets.length - 1);
      // every target after the first gets its copies now, as the records left the port: the first
      // target's nodes replace a record's data (a map) or mark it (a failure) while they work
      const batches = targets.map((_, i) =>
        i === 0 ? items : items.map((item) => ({ ...item, hops: [...item.hops] })),
      );
      for (const [i, target] of targets.entries()) await this.deliver(target, batches[i] as Item[]);
    }
    if (from.role === 'source') await this.commits.commitOutsideBatches();
  }

  /** Hands items to a node's input (a source that has read everything takes no more activations). */
  async deliver(target: LiveNode, items: Item[]): Promise<void> {
    const { sourcesDone } = this.state;
    if (target.role === 'source' && sourcesDone.has(target.node.id)) return;
    if (this.state.runs && !this.state.runs.has(target.node.id)) {
      this.end(target, items, 'succeeded'); // "test to here": the path ends where the test stops
      return;
    }
    this.state.capture?.received(target.node.id, items);
    const hop = target.index * 4 + HOP.in;
    for (const item of items) if (item.seq >= 0) item.hops.push(hop);
    await target.runtime.process(items);
    if (target.role === 'source') this.state.sourceFinished(target.node.id);
  }

  /** Marks the item failed at the node (error, attempts, payload as it entered) and sends it out of `error`. */
  async fail(from: LiveNode, item: Item, error: RecordError, attempts: number): Promise<void> {
    item.error = error;
    item.failedAt = from.node.id;
    item.attempts = attempts;
    item.payload = item.data;
    this.state.tracker.fail(item);
    await this.emit(from, 'error', [item]);
  }

  /** The items' path ends at the node with `status`; `hop` counts them in the node's counts. */
  end(
    at: LiveNode,
    items: Item[],
    status: 'succeeded' | 'filtered' | 'failed',
    hop?: number,
    reason?: (item: Item) => RecordError,
  ): void {
    for (const item of items) {
      if (item.seq < 0) continue;
      if (hop !== undefined) item.hops.push(at.index * 4 + hop);
      if (reason) this.state.tracker.reason(item, reason(item));
      this.state.tracker.end(item, at.node.id, status);
    }
  }

  /**
   * A source's page: gives each record a sequence number and a key and emits them, in chunks that
   * keep the records in flight within the flow's limit. Records a resumed run already stored are
   * skipped; records the source could not read (`failures`, by index) fail at the source, in order.
   */
  async emitPage(
    live: LiveNode,
    records: Record<string, unknown>[],
    keyField: string | undefined,
    cursor: unknown,
    failures?: ReadonlyMap<number, RecordError>,
  ): Promise<void> {
    const { state } = this;
    const { capture } = state;
    if (capture) records = records.slice(0, capture.room(live.node.id, records.length));
    this.checkpoints.markPage(live.node.id, cursor, state.nextSeq);
    let i = 0;
    while (i < records.length) {
      const room = Math.max(1, this.settings.maxInFlight - state.tracker.inFlight);
      const chunk: Item[] = [];
      for (; i < records.length && chunk.length < room; i++) {
        const record = records[i] as Record<string, unknown>;
        const seq = state.nextSeq++;
        if (state.settledEarlier(seq)) continue;
        const key = recordKey(record, keyField, this.hash);
        state.tracker.read(seq, key);
        const item: Item = { seq, key, data: record, source: record, batchNo: 0, attempts: 0, hops: [] };
        const failure = failures?.get(i);
        if (failure === undefined) chunk.push(item);
        else {
          if (chunk.length) await this.emit(live, 'out', chunk.splice(0));
          await this.fail(live, item, failure, 1);
        }
      }
      if (chunk.length) await this.emit(live, 'out', chunk);
    }
    if (capture?.full(live.node.id)) throw new LimitReached();
  }

  /**
   * Sends `parts` out of `out` as paths of `item`: the first goes on as the item itself, the others
   * as forks of it with no counts behind them, so nodes before this one count the record once.
   */
  async emitParts(from: LiveNode, item: Item, parts: readonly { key: string; data: Record<string, unknown> }[]) {
    if (parts.length === 0) return;
    const items = parts.map((part, i): Item => {
      const base: Item = i === 0 ? item : { ...item, hops: [] };
      return { ...base, key: part.key, data: part.data, part: i };
    });
    if (items.length > 1) this.state.tracker.fork(item, items.length - 1);
    await this.emit(from, 'out', items, new Set(items.slice(1)));
  }

  /**
   * Makes new records at the places given (see `RunState.reserve`), read by the run as a source's
   * are, and emits them in chunks within the in-flight limit; those a resumed run stored are skipped.
   */
  async create(from: LiveNode, records: readonly { seq: number; key: string; data: Record<string, unknown> }[]) {
    const { state } = this;
    let i = 0;
    while (i < records.length) {
      const room = Math.max(1, this.settings.maxInFlight - state.tracker.inFlight);
      const chunk: Item[] = [];
      for (; i < records.length && chunk.length < room; i++) {
        const { seq, key, data } = records[i] as (typeof records)[number];
        if (seq >= state.nextSeq) state.nextSeq = seq + 1;
        if (state.settledEarlier(seq)) continue;
        state.tracker.read(seq, key);
        chunk.push({ seq, key, data, source: data, batchNo: 0, attempts: 0, hops: [] });
      }
      if (chunk.length) await this.emit(from, 'out', chunk, new Set(chunk));
    }
  }

  /** A failed record with nothing on the error port: failed, and the run stops if the flow says so. */
  private failedWithNowhereToGo(from: LiveNode, items: Item[]): void {
    this.end(from, items, 'failed');
    if (this.settings.onError !== 'stop' || items.length === 0) return;
    const item = items[0] as Item;
    this.state.stop(
      `record "${item.key}" failed at node "${from.node.id}": ${item.error?.message ?? 'unknown error'}; the flow stops on the first failure (settings.onError = "stop")`,
    );
  }
}
