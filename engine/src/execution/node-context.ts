import { DEFAULT_BREAKER } from '../breaker.js';
import type {
  ContextByRole,
  ContextMaker,
  FlowControlContext,
  NodeContext,
  NodeRole,
  ShapingContext,
  SourceContext,
  SystemAccess,
  TransformContext,
  WriteContext,
} from '../runtime.js';
import { HOP } from '../tracker.js';
import type { Commits } from './commits.js';
import type { LiveNode } from './graph.js';
import type { ExecutionOptions } from './options.js';
import type { Permits } from './permits.js';
import type { Router } from './router.js';
import type { RunState } from './state.js';
import type { WaitingReport } from './waiting.js';

/** The parts of the executor a node's context is made of. */
export interface ContextParts {
  o: ExecutionOptions;
  state: RunState;
  router: Router;
  commits: Commits;
  waiting: WaitingReport;
  permits: Permits;
}

/** Makes the context of a node's role: each role reaches only what it needs of the run. */
export function contextMaker(live: LiveNode, parts: ContextParts): ContextMaker {
  const makers: { [R in NodeRole]: () => ContextByRole[R] } = {
    trigger: () => base(live, parts),
    source: () => source(live, parts),
    'flow-control': () => flowControl(live, parts),
    transform: () => transform(live, parts),
    shaping: () => shaping(live, parts),
    write: () => write(live, parts),
  };
  return (role) => makers[role]();
}

function base(live: LiveNode, { o, state, router }: ContextParts): NodeContext {
  return {
    node: live.node,
    runId: o.runId,
    clock: o.clock,
    signal: state.control.signal,
    emit: (port, items) => router.emit(live, port, items),
    boundary: () => state.boundary(),
  };
}

function systemAccess(live: LiveNode, { o, state, waiting, permits }: ContextParts): SystemAccess {
  return {
    connectors: o.connectors,
    random: o.random ?? Math.random,
    waiting: (w) => waiting.set(live.node.id, w),
    breaker: (name) => {
      state.connectionsUsed.add(name);
      const settings = o.connectors.connection(name)?.breaker ?? DEFAULT_BREAKER;
      return state.breakers.get(name, settings, o.resume?.checkpoint.breakers[name]);
    },
    permit: (name) => permits.acquire(live.node.id, name),
  };
}

function source(live: LiveNode, parts: ContextParts): SourceContext {
  const { o, router } = parts;
  return {
    ...base(live, parts),
    ...systemAccess(live, parts),
    emitPage: (records, keyField, cursor, failures) => router.emitPage(live, records, keyField, cursor, failures),
    inputs: () => o.inputs,
    startCursor: () => {
      const position = o.resume?.checkpoint.position;
      return position?.nodeId === live.node.id ? position.cursor : undefined;
    },
  };
}

function flowControl(live: LiveNode, parts: ContextParts): FlowControlContext {
  const { o, state, commits, waiting } = parts;
  const { clock } = o;
  return {
    ...base(live, parts),
    waiting: (w) => waiting.set(live.node.id, w),
    beginBatch: (size) => {
      const batchNo = state.nextBatch++;
      state.openBatches.set(batchNo, clock.now());
      o.onEvent?.({ type: 'batch-started', runId: o.runId, batchNo, size, at: clock.now() });
      return batchNo;
    },
    endBatch: async (batchNo) => {
      const startedAt = state.openBatches.get(batchNo) ?? clock.now();
      state.openBatches.delete(batchNo);
      const finishedAt = clock.now();
      state.lastBatchEnd = finishedAt;
      for (const { handler } of state.batchEndHandlers) await handler(batchNo);
      await commits.commit({ batchNo, size: 0, startedAt, finishedAt, succeeded: 0, filtered: 0, failed: 0 });
    },
    batchReleased: (batchNo) => {
      if (state.openBatches.has(batchNo)) state.openBatches.set(batchNo, clock.now());
    },
    lastBatchEnd: () => state.lastBatchEnd,
  };
}

function transform(live: LiveNode, parts: ContextParts): TransformContext {
  const { router } = parts;
  return {
    ...base(live, parts),
    fail: (item, error, attempts) => router.fail(live, item, error, attempts),
    drop: (items) => router.end(live, items, 'filtered', HOP.filtered),
  };
}

function shaping(live: LiveNode, parts: ContextParts): ShapingContext {
  const { o, state, router } = parts;
  return {
    ...transform(live, parts),
    dropWith: (items, reason) => router.end(live, items, 'filtered', HOP.filtered, reason),
    emitParts: (item, records) => router.emitParts(live, item, records),
    absorb: (items) => router.end(live, items, 'succeeded', HOP.out),
    reserve: (n) => state.reserve(n),
    create: (records) => router.create(live, records),
    onBatchEnd: (handler) => {
      state.batchEndHandlers.push({ order: live.order, handler });
      state.batchEndHandlers.sort((a, b) => a.order - b.order);
    },
    hash: (text) => o.runtime.hash(text),
    sandbox: o.connectors.sandbox,
    // a test run compares with what is current but changes nothing
    changes: o.changes && o.test ? { current: o.changes.current, stage: async () => {} } : o.changes,
  };
}

function write(live: LiveNode, parts: ContextParts): WriteContext {
  const { router, commits, state } = parts;
  return {
    ...base(live, parts),
    ...systemAccess(live, parts),
    fail: (item, error, attempts) => router.fail(live, item, error, attempts),
    done: (items) => router.end(live, items, 'succeeded', HOP.out),
    collect: (items, data) => commits.collect(live.node.id, items, data),
    saveState: () => commits.saveNodeState(live.node.id, live.runtime.state?.()),
    countCacheHits: (n) => state.tracker.addCacheHits(live.index, n),
  };
}
