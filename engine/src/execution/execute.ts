import { Cancelled } from '../clock.js';
import { createNodeRuntime } from '../nodes/index.js';
import type { Item } from '../runtime.js';
import { Checkpoints, currentWatermarks, restoredState } from './checkpoints.js';
import { Commits } from './commits.js';
import { buildGraph, type LiveNode, topologicalOrder } from './graph.js';
import { type ContextParts, contextMaker } from './node-context.js';
import type { ExecutionOptions, ExecutionResult } from './options.js';
import { Permits } from './permits.js';
import { preflight } from './preflight.js';
import { replay } from './replay.js';
import { Router } from './router.js';
import { RunState } from './state.js';
import { LimitReached, testRuntimeFor, upstreamOf } from './test-run.js';
import { WaitingReport } from './waiting.js';

export type { ExecutionOptions, ExecutionResult } from './options.js';

/** Streams records through a validated flow, reporting every record's outcome to the store. */
export async function execute(o: ExecutionOptions): Promise<ExecutionResult> {
  const state = new RunState(o);
  const nodes = buildGraph(o.flow);
  const checkpoints = new Checkpoints(state, nodes);
  const commits = new Commits(o, state, checkpoints);
  const router = new Router(state, commits, checkpoints, o.flow.settings, o.runtime.hash);
  const waiting = new WaitingReport(o);
  const permits = new Permits(o, waiting, state.control.signal);
  let end: ExecutionResult['end'] = 'completed';
  let error: string | undefined;
  try {
    if (o.test?.until && nodes.has(o.test.until)) state.runs = upstreamOf(nodes, o.test.until);
    start(nodes, { o, state, router, commits, waiting, permits });
    // a test that sends nothing does not call the systems to check credentials either
    if (!o.test || o.test.sendWrites) await preflight(o.flow, o.connectors, state, o.runId);
    if (o.replay) await replay(o.replay, { state, nodes, router, checkpoints, commits, resume: o.resume });
    else await activateTriggers(nodes, state);
    for (const live of topologicalOrder(nodes.values())) await live.runtime.finish?.();
  } catch (err) {
    if (state.stopReason) {
      end = 'stopped';
      error = state.stopReason;
    } else if (err instanceof Cancelled || o.signal.aborted) {
      end = 'cancelled';
    } else {
      end = 'stopped';
      error = (err as Error).message;
    }
  }
  if (end !== 'completed') state.tracker.cancelAll();
  await commits.commit();
  await waiting.clear();
  const result: ExecutionResult = {
    end,
    counts: { ...state.tracker.counts },
    nodeCounts: state.tracker.nodeCountsById(),
  };
  if (error) result.error = error;
  const watermarks = currentWatermarks(nodes.values());
  if (Object.keys(watermarks).length && !o.test) result.watermarks = watermarks;
  if (state.capture) result.test = state.capture.nodes;
  return result;
}

/** Starts every node's implementation with the context of its role and its restored state. */
function start(nodes: Map<string, LiveNode>, parts: ContextParts): void {
  for (const live of nodes.values()) {
    const restored = restoredState(live.node.id, parts.o.resume, parts.o.watermarks);
    const contextFor = contextMaker(live, parts);
    try {
      live.runtime = createNodeRuntime(live.node, contextFor, restored);
    } catch (err) {
      throw new Error(`node "${live.node.id}": ${(err as Error).message}`);
    }
    const { capture } = parts.state;
    if (capture) {
      live.runtime = testRuntimeFor(live, capture, contextFor) ?? live.runtime;
      if (live.role === 'source') live.runtime = stopsAtLimit(live.runtime);
    }
  }
}

/** A test run's source: reaching the test's limit ends its reading, not the run. */
function stopsAtLimit(runtime: LiveNode['runtime']): LiveNode['runtime'] {
  return {
    ...runtime,
    async process(items) {
      try {
        await runtime.process(items);
      } catch (err) {
        if (!(err instanceof LimitReached)) throw err;
      }
    },
  };
}

/** Sends each trigger its activation, in flow order; a source that finished before a resume is skipped. */
async function activateTriggers(nodes: Map<string, LiveNode>, state: RunState): Promise<void> {
  for (const live of nodes.values()) {
    if (!live.starts || state.sourcesDone.has(live.node.id)) continue;
    await live.runtime.process([activation()]);
    if (live.role === 'source') state.sourceFinished(live.node.id);
  }
}

/** What a trigger sends the sources it is connected to: not a record (seq -1). */
function activation(): Item {
  return { seq: -1, key: '', data: {}, source: {}, batchNo: 0, attempts: 0, hops: [] };
}
