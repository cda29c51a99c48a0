import { describe, expect, it } from 'vitest';
import { runtimes } from '../nodes/index.js';
import type { NodeRole } from '../runtime.js';
import { fakeConnectors, flowOf, MemoryRunStore, SimulatedClock, testRuntime } from '../testing/index.js';
import { Checkpoints } from './checkpoints.js';
import { Commits } from './commits.js';
import { buildGraph, type LiveNode } from './graph.js';
import { contextMaker } from './node-context.js';
import type { ExecutionOptions } from './options.js';
import { Permits } from './permits.js';
import { Router } from './router.js';
import { RunState } from './state.js';
import { WaitingReport } from './waiting.js';

function parts() {
  const o: ExecutionOptions = {
    runId: 'r',
    flow: flowOf([
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records' },
    ]),
    clock: new SimulatedClock(0),
    runtime: testRuntime,
    store: new MemoryRunStore(),
    connectors: fakeConnectors(() => {
      throw new Error('no requests');
    }),
    signal: new AbortController().signal,
  };
  const state = new RunState(o);
  const nodes = buildGraph(o.flow);
  const checkpoints = new Checkpoints(state, nodes);
  const commits = new Commits(o, state, checkpoints);
  const router = new Router(state, commits, checkpoints, o.flow.settings, testRuntime.hash);
  const waiting = new WaitingReport(o);
  const permits = new Permits(o, waiting, state.control.signal);
  return { live: nodes.get('src') as LiveNode, parts: { o, state, router, commits, waiting, permits } };
}

const BASE = ['boundary', 'clock', 'emit', 'node', 'runId', 'signal'];
const SYSTEMS = ['breaker', 'connectors', 'permit', 'random', 'waiting'];

describe('node contexts', () => {
  it('give each role only its own members', () => {
    const { live, parts: p } = parts();
    const members = (role: NodeRole) => Object.keys(contextMaker(live, p)(role)).sort();
    expect(members('trigger')).toEqual(BASE);
    expect(members('transform')).toEqual([...BASE, 'drop', 'fail'].sort());
    expect(members('source')).toEqual([...BASE, ...SYSTEMS, 'emitPage', 'inputs', 'startCursor'].sort());
    expect(members('flow-control')).toEqual(
      [...BASE, 'batchReleased', 'beginBatch', 'endBatch', 'lastBatchEnd', 'waiting'].sort(),
    );
    expect(members('shaping')).toEqual(
      [
        ...BASE,
        'drop',
        'fail',
        'dropWith',
        'emitParts',
        'absorb',
        'reserve',
        'create',
        'onBatchEnd',
        'hash',
        'sandbox',
        'changes',
      ].sort(),
    );
    expect(members('write')).toEqual(
      [...BASE, ...SYSTEMS, 'collect', 'countCacheHits', 'done', 'fail', 'saveState'].sort(),
    );
  });

  it('are chosen by each node type’s role', () => {
    const roles = Object.fromEntries(Object.entries(runtimes).map(([type, impl]) => [type, impl.role]));
    expect(roles).toEqual({
      manual: 'trigger',
      schedule: 'trigger',
      webhook: 'source',
      'http-source': 'source',
      'entity-source': 'source',
      'inline-records': 'source',
      generate: 'source',
      'file-source': 'source',
      batch: 'flow-control',
      delay: 'flow-control',
      filter: 'transform',
      branch: 'transform',
      map: 'transform',
      split: 'shaping',
      aggregate: 'shaping',
      dedupe: 'shaping',
      'changed-only': 'shaping',
      code: 'shaping',
      'error-branch': 'transform',
      'http-write': 'write',
      'entity-write': 'write',
      'file-sink': 'write',
      collect: 'write',
      'sql-source': 'source',
      // a lookup reaches a connection and fails records: the write role's context
      'sql-lookup': 'write',
      'sql-write': 'write',
      'http-lookup': 'write',
    });
  });
});
