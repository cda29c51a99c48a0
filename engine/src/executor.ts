import { type Flow, type FlowNode, type NodeCounts, nodeTypes, type RecordError, type RunCounts } from '@sluice/shared';
import { BreakerRegistry, DEFAULT_BREAKER } from './breaker.js';
import { Cancelled } from './clock.js';
import { Gate } from './gate.js';
import { createNodeRuntime } from './nodes/index.js';
import type {
  BatchInfo,
  Checkpoint,
  Clock,
  CollectedRecord,
  Connectors,
  InputSource,
  ReplaySource,
  ResumeState,
  RunEvent,
  RunStore,
  Waiting,
  WatermarkState,
  Watermarks,
} from './ports.js';
import { recordKey } from './record-key.js';
import type { Item, NodeContext, NodeRuntime } from './runtime.js';
import { HOP, RecordTracker } from './tracker.js';

export interface ExecutionOptions {
  runId: string;
  /** A flow that passed `validateFlow` (defaults applied). */
  flow: Flow;
  clock: Clock;
  store: RunStore;
  connectors: Connectors;
  signal: AbortSignal;
  /** Closed while the run is paused. */
  gate?: Gate;
  random?: () => number;
  onEvent?: (event: RunEvent) => void;
  /** Breakers shared with other runs of the process; a private registry when absent. */
  breakers?: BreakerRegistry;
  /** Where a run that was interrupted goes on from. */
  resume?: ResumeState;
  /** For a retry run: the failed records to feed into the nodes where they failed, instead of the triggers. */
  replay?: ReplaySource;
  /** Records the run was started with (a webhook's body), read by the trigger that brings records. */
  inputs?: InputSource;
  /** Incremental sync: the stored watermark of each source node (see `WatermarkState`). */
  watermarks?: Watermarks;
}

export interface ExecutionResult {
  /** completed: every record was read and settled; stopped: a failure stopped the run; cancelled: on request. */
  end: 'completed' | 'stopped' | 'cancelled';
  error?: string;
  counts: RunCounts;
  nodeCounts: Record<string, NodeCounts>;
  /**
   * The watermark of each incremental source after this run (the largest value read, or the one it
   * started from). Reported whatever the end; only a completed run's should be stored.
   */
  watermarks?: Watermarks;
}

interface Live {
  node: FlowNode;
  index: number;
  /** A trigger that brings its own records (a webhook) counts as a source once started. */
  role: string | undefined;
  starts: boolean;
  runtime: NodeRuntime;
  ports: Map<string, Live[]>;
}

interface PageMark {
  nodeId: string;
  cursor: unknown;
  firstSeq: number;
}

const REPLAY_NODE = '$retry';
const REPLAY_PAGE = 500;
const YIELD_EVERY_MS = 4;

/** Streams records through a validated flow, reporting every record's outcome to the store. */
export async function execute(options: ExecutionOptions): Promise<ExecutionResult> {
  return new Execution(options).run();
}

class Execution {
  private readonly nodes = new Map<string, Live>();
  private readonly tracker: RecordTracker;
  private readonly control = new AbortController();
  private readonly gate: Gate;
  private readonly breakers: BreakerRegistry;
  private readonly collected: CollectedRecord[] = [];
  private readonly openBatches = new Map<number, number>();
  private readonly sourcesDone: Set<string>;
  private readonly settledBefore: ReadonlySet<number>;
  private readonly resumeLowWater: number;
  private readonly connectionsUsed = new Set<string>();
  private readonly maxInFlight: number;
  private pages: PageMark[] = [];
  private nextSeq: number;
  private nextBatch: number;
  private lastBatchEnd: number | undefined;
  private stopReason: string | undefined;
  private waitingNow = new Map<string, Waiting>();
  private lastYield = performance.now();

  constructor(private readonly o: ExecutionOptions) {
    const cp = o.resume?.checkpoint;
    this.tracker = new RecordTracker(
      () => o.clock.now(),
      o.flow.nodes.map((n) => n.id),
      o.resume,
    );
    this.gate = o.gate ?? new Gate();
    this.breakers = o.breakers ?? new BreakerRegistry(o.clock);
    this.sourcesDone = new Set(cp?.sourcesDone ?? []);
    this.settledBefore = o.resume?.settled ?? new Set();
    this.resumeLowWater = cp?.lowWater ?? 0;
    this.nextSeq = cp?.position?.firstSeq ?? cp?.lowWater ?? 0;
    this.nextBatch = cp?.nextBatch ?? 1;
    this.lastBatchEnd = cp?.lastBatchEnd;
    this.maxInFlight = o.flow.settings.maxInFlight;
    if (o.signal.aborted) this.control.abort();
    else o.signal.addEventListener('abort', () => this.control.abort(), { once: true });
  }

  async run(): Promise<ExecutionResult> {
    let end: ExecutionResult['end'] = 'completed';
    let error: string | undefined;
    try {
      this.build();
      await this.preflight();
      if (this.o.replay) await this.replay(this.o.replay);
      else {
        for (const live of this.nodes.values()) {
          if (!live.starts || this.sourcesDone.has(live.node.id)) continue;
          await live.runtime.process([activation()]);
          if (live.role === 'source') this.sourcesDone.add(live.node.id);
        }
      }
      for (const live of this.topologicalOrder()) await live.runtime.finish?.();
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
    if (end !== 'completed') this.tracker.cancelAll();
    await this.commit();
    if (this.waitingNow.size) await this.o.store.setWaiting(this.o.runId, null);
    const result: ExecutionResult = {
      end,
      counts: { ...this.tracker.counts },
      nodeCounts: this.tracker.nodeCountsById(),
    };
    if (error) result.error = error;
    const watermarks = this.watermarks();
    if (Object.keys(watermarks).length) result.watermarks = watermarks;
    return result;
  }

  private build(): void {
    const restored = this.o.resume?.checkpoint.nodeState ?? {};
    this.o.flow.nodes.forEach((node, index) => {
      const live: Live = {
        node,
        index,
        role: nodeTypes.get(node.type)?.providesRecords ? 'source' : nodeTypes.get(node.type)?.role,
        starts: nodeTypes.get(node.type)?.role === 'trigger',
        runtime: { process: async () => {} },
        ports: new Map(),
      };
      this.nodes.set(node.id, live);
    });
    for (const edge of this.o.flow.edges) {
      const from = this.nodes.get(edge.source);
      const to = this.nodes.get(edge.target);
      if (from && to) from.ports.set(edge.sourcePort, [...(from.ports.get(edge.sourcePort) ?? []), to]);
    }
    for (const live of this.nodes.values()) {
      try {
        live.runtime = createNodeRuntime(live.node, this.context(live), this.restoredState(live.node.id, restored));
      } catch (err) {
        throw new Error(`node "${live.node.id}": ${(err as Error).message}`);
      }
    }
  }

  /** A node's state from the checkpoint, seeded with its stored watermark (see `WatermarkState`). */
  private restoredState(nodeId: string, restored: Record<string, unknown>): unknown {
    const state = restored[nodeId];
    const from = this.o.watermarks?.[nodeId];
    if (from === undefined) return state;
    if (state !== undefined && (state === null || typeof state !== 'object' || Array.isArray(state))) return state;
    return { watermarkFrom: from, ...((state as WatermarkState | undefined) ?? {}) };
  }

  /** The watermarks the nodes' states report now. */
  private watermarks(): Watermarks {
    const out: Watermarks = {};
    for (const live of this.nodes.values()) {
      const state = live.runtime.state?.() as WatermarkState | undefined;
      if (state && typeof state === 'object' && typeof state.watermark === 'string')
        out[live.node.id] = state.watermark;
    }
    return out;
  }

  /**
   * Checks each connection the flow's nodes name, once, before anything is read: a system that
   * refuses the credentials (401/403) fails the run at once, naming the connection, instead of
   * every record waiting on it. Other failures of the check (the system unreachable, a 5xx) let the
   * run start: the retries and the breaker deal with those.
   */
  private async preflight(): Promise<void> {
    const connectors = this.o.connectors;
    if (!connectors.check) return;
    const names = new Set<string>();
    for (const node of this.o.flow.nodes) {
      const name = node.params.connection;
      if (typeof name === 'string' && name !== '') names.add(name);
    }
    await this.boundary(); // a run started paused sends nothing, checks included, until resumed
    const checks = await Promise.all(
      [...names].map(async (name) => {
        try {
          return { name, result: await connectors.check?.(name, this.control.signal) };
        } catch {
          return { name, result: undefined };
        }
      }),
    );
    if (this.control.signal.aborted) throw new Cancelled();
    for (const { name, result } of checks) {
      if (result && !result.ok && (result.status === 401 || result.status === 403)) {
        throw new Error(
          `connection "${name}": the system refused the credentials (HTTP ${result.status}) — check its token`,
        );
      }
    }
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
      done: (items) => this.end(live, items, 'succeeded', HOP.out),
      drop: (items) => this.end(live, items, 'filtered', HOP.filtered),
      collect: (items, data) => {
        // kept with the record's outcome row; only a record reaching a second collect node needs a row of its own
        for (const item of items) {
          const value = data(item);
          if (!this.tracker.setOutput(item.seq, live.node.id, value)) {
            this.collected.push({ seq: item.seq, key: item.key, nodeId: live.node.id, data: value });
          }
        }
      },
      emitPage: (records, keyField, cursor, failures) => this.emitPage(live, records, keyField, cursor, failures),
      inputs: () => o.inputs,
      startCursor: () => {
        const position = o.resume?.checkpoint.position;
        return position?.nodeId === live.node.id ? position.cursor : undefined;
      },
      beginBatch: (size) => {
        const batchNo = this.nextBatch++;
        this.openBatches.set(batchNo, o.clock.now());
        o.onEvent?.({ type: 'batch-started', runId: o.runId, batchNo, size, at: o.clock.now() });
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
      boundary: () => this.boundary(),
      waiting: (w) => this.setWaiting(live.node.id, w),
      breaker: (name) => {
        this.connectionsUsed.add(name);
        const settings = o.connectors.connection(name)?.breaker ?? DEFAULT_BREAKER;
        return this.breakers.get(name, settings, o.resume?.checkpoint.breakers[name]);
      },
    };
  }

  private async boundary(): Promise<void> {
    if (this.gate.isClosed) await this.gate.pass(this.control.signal);
    if (this.control.signal.aborted) throw new Cancelled();
  }

  private async emit(from: Live, port: string, items: Item[]): Promise<void> {
    await this.boundary();
    const hop = from.index * 4 + (port === 'error' ? HOP.error : HOP.out);
    for (const item of items) if (item.seq >= 0) item.hops.push(hop);
    const targets = from.ports.get(port) ?? [];
    if (targets.length === 0) {
      if (port === 'error') this.failedWithNowhereToGo(from, items);
      else this.end(from, items, 'succeeded');
    } else {
      if (targets.length > 1) for (const item of items) this.tracker.fork(item, targets.length - 1);
      for (const [i, target] of targets.entries()) {
        const copies = i === 0 ? items : items.map((item) => ({ ...item, hops: [...item.hops] }));
        await this.deliver(target, copies);
      }
    }
    if (from.role === 'source' && this.openBatches.size === 0) await this.commit();
  }

  private async deliver(target: Live, items: Item[]): Promise<void> {
    if (target.role === 'source' && this.sourcesDone.has(target.node.id)) return;
    const hop = target.index * 4 + HOP.in;
    for (const item of items) if (item.seq >= 0) item.hops.push(hop);
    await target.runtime.process(items);
    if (target.role === 'source') this.sourcesDone.add(target.node.id);
  }

  private async emitPage(
    live: Live,
    records: Record<string, unknown>[],
    keyField: string | undefined,
    cursor: unknown,
    failures?: ReadonlyMap<number, RecordError>,
  ) {
    this.pages.push({ nodeId: live.node.id, cursor, firstSeq: this.nextSeq });
    let i = 0;
    while (i < records.length) {
      const room = Math.max(1, this.maxInFlight - this.tracker.inFlight);
      const chunk: Item[] = [];
      for (; i < records.length && chunk.length < room; i++) {
        const record = records[i] as Record<string, unknown>;
        const seq = this.nextSeq++;
        if (seq < this.resumeLowWater || this.settledBefore.has(seq)) continue;
        const key = recordKey(record, keyField);
        this.tracker.read(seq, key);
        const item: Item = { seq, key, data: record, source: record, batchNo: 0, attempts: 0, hops: [] };
        const failure = failures?.get(i);
        if (failure === undefined) chunk.push(item);
        else {
          // a record the source could not read: it fails here, in read order
          if (chunk.length) await this.emit(live, 'out', chunk.splice(0));
          await this.fail(live, item, failure, 1);
        }
      }
      if (chunk.length) await this.emit(live, 'out', chunk);
    }
  }

  /** Retry run: feeds failed records of an earlier run into the nodes where they failed, in their order. */
  private async replay(source: ReplaySource): Promise<void> {
    const position = this.o.resume?.checkpoint.position;
    let after = position?.nodeId === REPLAY_NODE ? (position.cursor as number) : -1;
    for (;;) {
      await this.boundary();
      const page = await source.read(after, REPLAY_PAGE);
      if (page.length === 0) return;
      this.pages.push({ nodeId: REPLAY_NODE, cursor: after, firstSeq: this.nextSeq });
      let group: Item[] = [];
      let groupNode: string | undefined;
      const flush = async () => {
        if (group.length && groupNode !== undefined) await this.replayInto(groupNode, group);
        group = [];
      };
      for (const record of page) {
        const seq = this.nextSeq++;
        if (seq < this.resumeLowWater || this.settledBefore.has(seq)) continue;
        this.tracker.read(seq, record.key);
        if (record.nodeId !== groupNode) await flush();
        groupNode = record.nodeId;
        group.push({
          seq,
          key: record.key,
          data: record.payload,
          source: record.payload,
          batchNo: 0,
          attempts: 0,
          hops: [],
        });
      }
      await flush();
      after = (page[page.length - 1] as { ref: number }).ref;
      if (this.openBatches.size === 0) await this.commit();
    }
  }

  private async replayInto(nodeId: string, items: Item[]): Promise<void> {
    const target = this.nodes.get(nodeId);
    if (target && target.role !== 'trigger' && target.role !== 'source') return this.deliver(target, items);
    for (const item of items) {
      item.error = {
        message: `node "${nodeId}" is not in this flow version (or cannot take records), so the record cannot be retried there`,
        code: 'retry_node_missing',
      };
      item.failedAt = nodeId;
      item.payload = item.data;
      this.tracker.fail(item);
      this.tracker.end(item, nodeId, 'failed');
    }
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
    const item = items[0] as Item;
    this.stopReason = `record "${item.key}" failed at node "${from.node.id}": ${item.error?.message ?? 'unknown error'}; the flow stops on the first failure (settings.onError = "stop")`;
    this.control.abort();
  }

  private end(at: Live, items: Item[], status: 'succeeded' | 'filtered' | 'failed', hop?: number): void {
    for (const item of items) {
      if (item.seq < 0) continue;
      if (hop !== undefined) item.hops.push(at.index * 4 + hop);
      this.tracker.end(item, at.node.id, status);
    }
  }

  private setWaiting(nodeId: string, w: Omit<Waiting, 'nodeId'> | null): void {
    const had = this.waitingNow.size > 0;
    if (w) this.waitingNow.set(nodeId, { ...w, nodeId });
    else if (!this.waitingNow.delete(nodeId)) return;
    const current = [...this.waitingNow.values()].sort((a, b) => b.until - a.until)[0] ?? null;
    if (!current && !had) return;
    void this.o.store.setWaiting(this.o.runId, current);
    this.o.onEvent?.({ type: 'waiting', runId: this.o.runId, waiting: current });
  }

  private checkpoint(): Checkpoint {
    const lowWater = this.tracker.lowestInFlight() ?? this.nextSeq;
    let keep = 0;
    this.pages.forEach((p, i) => {
      if (p.firstSeq <= lowWater) keep = i;
    });
    this.pages = this.pages.slice(keep);
    const page = this.pages[0];
    const nodeState: Record<string, unknown> = {};
    for (const live of this.nodes.values()) {
      const state = live.runtime.state?.();
      // a copy: the store may keep the object, and the node goes on changing its own
      if (state !== undefined) nodeState[live.node.id] = structuredClone(state);
    }
    const cp: Checkpoint = {
      version: 1,
      lowWater,
      nextBatch: this.nextBatch,
      sourcesDone: [...this.sourcesDone],
      nodeState,
      breakers: this.breakers.snapshot(this.connectionsUsed),
    };
    if (this.lastBatchEnd !== undefined) cp.lastBatchEnd = this.lastBatchEnd;
    if (page) cp.position = { nodeId: page.nodeId, cursor: page.cursor, firstSeq: page.firstSeq };
    return cp;
  }

  private async commit(batch?: BatchInfo): Promise<void> {
    const outcomes = this.tracker.take();
    if (!batch && outcomes.length === 0 && this.collected.length === 0) return;
    if (batch) {
      for (const o of outcomes) if (o.batchNo === batch.batchNo && o.status !== 'cancelled') batch[o.status]++;
      batch.size = batch.succeeded + batch.filtered + batch.failed;
    }
    const counts = { ...this.tracker.counts };
    const nodeCounts = this.tracker.nodeCountsById();
    const commit = {
      outcomes,
      collected: this.collected.splice(0),
      counts,
      nodeCounts,
      checkpoint: this.checkpoint(),
      ...(batch ? { batch } : {}),
    };
    await this.o.store.commit(this.o.runId, commit);
    if (batch) this.o.onEvent?.({ type: 'batch', runId: this.o.runId, batch, counts, nodeCounts });
    await this.yieldNow();
  }

  /**
   * Lets the process's other work run (the API, other runs) at least every few milliseconds: a flow
   * with no I/O of its own would otherwise hold the event loop for the whole run.
   */
  private async yieldNow(): Promise<void> {
    const now = performance.now();
    if (now - this.lastYield < YIELD_EVERY_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastYield = performance.now();
  }

  private topologicalOrder(): Live[] {
    const indegree = new Map<Live, number>();
    for (const live of this.nodes.values()) indegree.set(live, 0);
    for (const live of this.nodes.values())
      for (const ts of live.ports.values()) for (const t of ts) indegree.set(t, (indegree.get(t) ?? 0) + 1);
    const queue = [...indegree].filter(([, d]) => d === 0).map(([l]) => l);
    const order: Live[] = [];
    while (queue.length) {
      const live = queue.shift() as Live;
      order.push(live);
      for (const ts of live.ports.values()) {
        for (const t of ts) {
          const d = (indegree.get(t) ?? 0) - 1;
          indegree.set(t, d);
          if (d === 0) queue.push(t);
        }
      }
    }
    return order;
  }
}

function activation(): Item {
  return { seq: -1, key: '', data: {}, source: {}, batchNo: 0, attempts: 0, hops: [] };
}
