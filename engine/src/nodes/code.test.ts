import { describe, expect, it } from 'vitest';
import type { CodeResult, CodeSandbox } from '../ports.js';
import { startRun } from '../run.js';
import { fakeConnectors, flowOf, MemoryRunStore, SimulatedClock, testRuntime } from '../testing/index.js';

/** A sandbox port that answers by record key, as the server's would (the real one: server/src/code/). */
function answering(results: Record<string, CodeResult>): CodeSandbox & { seen: unknown[] } {
  const seen: unknown[] = [];
  return {
    seen,
    run: async (request) => {
      seen.push(request);
      return results[request.record.key as string] ?? { ok: true, value: { ...request.record, done: true } };
    },
  };
}

async function runCode(sandbox: CodeSandbox | undefined) {
  const flow = flowOf([
    { id: 'start', type: 'manual' },
    {
      id: 'src',
      type: 'inline-records',
      params: { records: ['a', 'b', 'c', 'd', 'e'].map((key) => ({ key })), keyField: 'key' },
    },
    { id: 'code', type: 'code', params: { code: 'return record', timeoutMs: 200, memoryMb: 8 } },
    { id: 'out', type: 'collect' },
  ]);
  const connectors = {
    ...fakeConnectors(() => {
      throw new Error('no requests');
    }),
    ...(sandbox ? { sandbox } : {}),
  };
  const clock = new SimulatedClock(0);
  const store = new MemoryRunStore();
  const result = await clock.run(startRun({ runId: 'r', flow, clock, runtime: testRuntime, store, connectors }).done);
  return { result, store };
}

describe('code', () => {
  it('keeps returned objects, drops null with the reason, fails the rest alone with the message', async () => {
    const sandbox = answering({
      b: { ok: true, value: null },
      c: { ok: false, reason: 'time', message: 'ran longer than 200 ms (the limit)' },
      d: { ok: true, value: [1] },
    });
    const { result, store } = await runCode(sandbox);
    expect(sandbox.seen[0]).toEqual({
      code: 'return record',
      record: { key: 'a' },
      timeoutMs: 200,
      memoryBytes: 8388608,
    });
    expect(store.collected.map((c) => c.data)).toEqual([
      { key: 'a', done: true },
      { key: 'e', done: true },
    ]);
    expect(store.byStatus('filtered').map((o) => [o.key, o.error?.message])).toEqual([['b', 'the code returned null']]);
    expect(store.byStatus('failed').map((o) => [o.key, o.error?.code, o.error?.message])).toEqual([
      ['c', 'code_time', 'ran longer than 200 ms (the limit)'],
      ['d', 'code_result', 'the code returned an array, not an object or null'],
    ]);
    expect(result.nodeCounts.code).toEqual({ in: 5, out: 2, error: 2, filtered: 1 });
  });

  it('fails every record, saying why, when the process gave no sandbox', async () => {
    const { result, store } = await runCode(undefined);
    expect(result.counts.failed).toBe(5);
    expect(store.byStatus('failed')[0]?.error?.message).toBe('code nodes need a sandbox, and this process has none');
  });
});
