import { type Flow, type FlowNode, type NodeCounts, nodeTypes, type RecordError, type RunCounts } from '@sluice/shared';
import { Cancelled } from './clock.js';
import { runtimes } from './nodes/index.js';
import type { BatchInfo, Clock, CollectedRecord, Connectors, RunEvent, RunStore } from './ports.js';
import { recordKey } from './record-key.js';
import type { Item, NodeContext, NodeRuntime } from './runtime.js';
import { RecordTracker } from './tracker.js';

export interface ExecutionOptions {
  runId: string;
  /** A flow that passed `validateFlow` (defaults applied). */
  flow: Flow;
  clock: Clock;
  store: RunStore;
  connectors: Connectors;
  signal: AbortSignal;
  random?: () => number;
  onEvent?: (event: RunEvent) => void;
}

export interface ExecutionResult {
  /** completed: every record was read and settled; stopped: a failure stopped the run; cancelled: on request. */
  end: 'completed' | 'stopped' | 'cancelled';
  error?: string;
  counts: RunCounts;
  nodeCounts: Record<string, NodeCounts>;
}

interface Live {
  node: FlowNode;
  runtime: NodeRuntime;
  ports: Map<string, string[]>;
  counts: NodeCounts;
}

/** Streams records through a validated flow, reporting every record's outcome to the store. */
export async function execute(options: ExecutionOptions): Promise<ExecutionResult> {
  return new Execution(options).run();
}

class Execution {
  private readonly nodes = new Map<string, Live>();
  private readonly tracker: RecordTracker;
  private readonly control = new AbortController();
  private readonly collected: CollectedRecord[] = [];
  private readonly openBatches = new Map<number, number>();
  private nextSeq = 0;
  private nextBatch = 1;
  private lastBatchEnd: number | undefined;
  private stopReason: string | undefined;

  constructor(private readonly o: ExecutionOptions) {
    this.tracker = new RecordTracker(() => o.clock.now());
    if (o.signal.aborted) this.control.abort();
    else o.signal.addEventListener('abort', () => this.control.abort(), { once: true });
  }

  async run(): Promise<ExecutionResult> {
    let end: ExecutionResult['end'] = 'completed';
    let error: string | undefined;
    try {
      this.build();
      for (const live of this.nodes.values()) {
        if (nodeTypes.get(live.node.type)?.role !== 'trigger') continue;
        await live.runtime.process([this.activation()]);
      }
      for (const id of this.topologicalOrder()) await this.nodes.get(id)?.runtime.finish?.();
    } catch (err) {
      if (this.stopReason) {
        end = 'stopped';
        error = this.stopReason;
      } else if (err instanceof Cancelled || this.o.signal.aborted) {
        end = 'cancelled';
      } else {
        end = 'stopped';
        error = (err as Error).message;
      }
    }
    await this.commit();
    const result: ExecutionResult = { end, counts: { ...this.tracker.counts }, nodeCounts: this.nodeCounts() };
    if (error) result.error = error;
    return result;
  }

  private build(): void {
    for (const node of this.o.flow.nodes) {
      const factory = runtimes.get(node.type);
      if (!factory) throw new Error(`node "${node.id}": no implementation for type "${node.type}"`);
      const live: Live = {
        node,
        runtime: { process: async () => {} },
        ports: new Map(),
        counts: { in: 0, out: 0, error: 0, filtered: 0 },
      };
      this.nodes.set(node.id, live);
    }
    for (const edge of this.o.flow.edges) {
      const live = this.nodes.get(edge.source);
      if (!live) continue;
      live.ports.set(edge.sourcePort, [...(live.ports.get(edge.sourcePort) ?? []), edge.target]);
    }
    for (const live of this.nodes.values()) {
      const factory = runtimes.get(live.node.type);
      try {
        live.runtime = factory!(this.context(live), live.node.params);
      } catch (err) {
        throw new Error(`node "${live.node.id}": ${(err as Error).message}`);
      }
    }
  }

  private activation(): Item {
    return { seq: -1, key: '', data: {}, source: {}, batchNo: 0, attempts: 0 };
  }

  private context(live: Live): NodeContext {
    const o = this.o;
    return {
      node: live.node,
      runId: o.runId,
      clock: o.clock,
      connectors: o.connectors,
      signal: this.control.signal,
      random: o.random ?? Math.random,
      emit: (port, items) => this.emit(live, port, items),
      fail: (item, error, attempts) => this.fail(live, item, error, attempts),
      done: (items) => {
        live.counts.out += items.length;
        this.end(live, items, 'succeeded');
      },
      drop: (items) => {
        live.counts.filtered += items.length;
        this.end(live, items, 'filtered');
      },
      collect: (items, data) => {
        for (const item of items)
          this.collected.push({ seq: item.seq, key: item.key, nodeId: live.node.id, data: data(item) });
      },
      read: (records, keyField) =>
        records.map((record) => {
          const item: Item = {
            seq: this.nextSeq++,
            key: recordKey(record, keyField),
            data: record,
            source: record,
            batchNo: 0,
            attempts: 0,
          };
          this.tracker.read(item.seq, item.key);
          return item;
        }),
      beginBatch: () => {
        const batchNo = this.nextBatch++;
        this.openBatches.set(batchNo, o.clock.now());
        return batchNo;
      },
      endBatch: async (batchNo) => {
        const startedAt = this.openBatches.get(batchNo) ?? o.clock.now();
        this.openBatches.delete(batchNo);
        const finishedAt = o.clock.now();
        this.lastBatchEnd = finishedAt;
        await this.commit({ batchNo, size: 0, startedAt, finishedAt, succeeded: 0, filtered: 0, failed: 0 });
      },
      batchReleased: (batchNo) => {
        if (this.openBatches.has(batchNo)) this.openBatches.set(batchNo, o.clock.now());
      },
      lastBatchEnd: () => this.lastBatchEnd,
    };
  }

  private async emit(from: Live, port: string, items: Item[]): Promise<void> {
    if (this.control.signal.aborted) throw new Cancelled();
    const tracked = items.filter((i) => i.seq >= 0).length;
    if (port === 'error') from.counts.error += tracked;
    else from.counts.out += tracked;
    const targets = from.ports.get(port) ?? [];
    if (targets.length === 0) {
      if (port === 'error') this.failedWithNowhereToGo(from, items);
      else this.end(from, items, 'succeeded');
      return;
    }
    if (targets.length > 1) for (const item of items) this.tracker.fork(item, targets.length - 1);
    for (const [i, targetId] of targets.entries()) {
      const target = this.nodes.get(targetId);
      if (!target) continue;
      const copies = i === 0 ? items : items.map((item) => ({ ...item }));
      target.counts.in += copies.filter((c) => c.seq >= 0).length;
      await target.runtime.process(copies);
    }
    const isSource = nodeTypes.get(from.node.type)?.role === 'source';
    if (isSource && this.openBatches.size === 0) await this.commit();
  }

  private async fail(from: Live, item: Item, error: RecordError, attempts: number): Promise<void> {
    item.error = error;
    item.failedAt = from.node.id;
    item.attempts = attempts;
    item.payload = item.data;
    this.tracker.fail(item);
    await this.emit(from, 'error', [item]);
  }

  private failedWithNowhereToGo(from: Live, items: Item[]): void {
    this.end(from, items, 'failed');
    if (this.o.flow.settings.onError !== 'stop' || items.length === 0) return;
    const item = items[0]!;
    this.stopReason = `record "${item.key}" failed at node "${from.node.id}": ${item.error?.message ?? 'unknown error'}; the flow stops on the first failure (settings.onError = "stop")`;
    this.control.abort();
  }

  private end(at: Live, items: Item[], status: 'succeeded' | 'filtered' | 'failed'): void {
    for (const item of items) if (item.seq >= 0) this.tracker.end(item, at.node.id, status);
  }

  private async commit(batch?: BatchInfo): Promise<void> {
    const outcomes = this.tracker.take();
    if (!batch && outcomes.length === 0 && this.collected.length === 0) return;
    if (batch) {
      for (const o of outcomes) if (o.batchNo === batch.batchNo) batch[o.status]++;
      batch.size = batch.succeeded + batch.filtered + batch.failed;
    }
    const counts = { ...this.tracker.counts };
    const nodeCounts = this.nodeCounts();
    const commit = { outcomes, collected: this.collected.splice(0), counts, nodeCounts, ...(batch ? { batch } : {}) };
    await this.o.store.commit(this.o.runId, commit);
    if (batch) this.o.onEvent?.({ type: 'batch', runId: this.o.runId, batch, counts, nodeCounts });
  }

  private nodeCounts(): Record<string, NodeCounts> {
    const out: Record<string, NodeCounts> = {};
    for (const [id, live] of this.nodes) out[id] = { ...live.counts };
    return out;
  }

  private topologicalOrder(): string[] {
    const indegree = new Map<string, number>();
    for (const id of this.nodes.keys()) indegree.set(id, 0);
    for (const e of this.o.flow.edges) indegree.set(e.target, (indegree.get(e.target) ?? 0) + 1);
    const queue = [...indegree].filter(([, d]) => d === 0).map(([id]) => id);
    const order: string[] = [];
    while (queue.length) {
      const id = queue.shift()!;
      order.push(id);
      for (const targets of this.nodes.get(id)?.ports.values() ?? []) {
        for (const t of targets) {
          const d = (indegree.get(t) ?? 0) - 1;
          indegree.set(t, d);
          if (d === 0) queue.push(t);
        }
      }
    }
    return order;
  }
}
