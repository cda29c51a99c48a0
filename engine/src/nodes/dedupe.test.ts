import { describe, expect, it } from 'vitest';
import { startRun } from '../run.js';
import { dieAndResume, fakeConnectors, flowOf, MemoryRunStore, SimulatedClock, testRuntime } from '../testing/index.js';

const noHttp = fakeConnectors(() => {
  throw new Error('no requests');
});

function dedupeFlow(keys: string[], params: Record<string, unknown> = {}) {
  return flowOf([
    { id: 'start', type: 'manual' },
    {
      id: 'src',
      type: 'inline-records',
      params: { records: keys.map((email, i) => ({ id: `r${i}`, email })), keyField: 'id' },
    },
    { id: 'batch', type: 'batch', params: { size: 3 } },
    { id: 'dedupe', type: 'dedupe', params: { key: 'email', ...params } },
    { id: 'out', type: 'collect' },
  ]);
}

/** 40 generated records in pages of 7, batches of 3, keys `index % 11` (or 0 from index 30 on). */
function generatedFlow(dedupeFirst: boolean) {
  const cut = { id: 'batch', type: 'batch', params: { size: 3 } };
  const dedupe = { id: 'dedupe', type: 'dedupe', params: { key: 'index < 30 ? index % 11 : 0' } };
  return flowOf([
    { id: 'start', type: 'manual' },
    { id: 'src', type: 'generate', params: { count: 40, pageSize: 7 } },
    ...(dedupeFirst ? [dedupe, cut] : [cut, dedupe]),
    { id: 'out', type: 'collect' },
  ]);
}

async function run(flow: ReturnType<typeof flowOf>) {
  const clock = new SimulatedClock(0);
  const store = new MemoryRunStore();
  const result = await clock.run(
    startRun({ runId: 'r', flow, clock, runtime: testRuntime, store, connectors: noHttp }).done,
  );
  return { result, store };
}

describe('dedupe', () => {
  it('lets the first record of each key through; repeats are filtered with the reason', async () => {
    const { result, store } = await run(dedupeFlow(['a', 'b', 'a', 'c', 'b', 'a']));
    expect(store.collected.map((c) => c.key)).toEqual(['r0', 'r1', 'r3']);
    expect(store.byStatus('filtered').map((o) => [o.key, o.nodeId, o.error?.message])).toEqual(
      ['r2', 'r4', 'r5'].map((key) => [key, 'dedupe', 'a repeat of a key seen earlier in this run']),
    );
    expect(result.nodeCounts.dedupe).toEqual({ in: 6, out: 3, error: 0, filtered: 3 });
  });

  it('compares record keys when no expression is given', async () => {
    const flow = flowOf([
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records', params: { records: [{ k: 1 }, { k: 2 }, { k: 1 }], keyField: 'k' } },
      { id: 'dedupe', type: 'dedupe' },
      { id: 'out', type: 'collect' },
    ]);
    const { store } = await run(flow);
    expect(store.collected.map((c) => c.key)).toEqual(['1', '2']);
  });

  it('fails a record with a new key past maxKeys, with a clear message', async () => {
    const { result, store } = await run(dedupeFlow(['a', 'b', 'a', 'c'], { maxKeys: 2 }));
    expect(store.byStatus('failed').map((o) => [o.key, o.error?.message])).toEqual([
      ['r3', 'more than 2 distinct keys in this run (maxKeys)'],
    ]);
    expect(result.counts).toEqual({ read: 4, succeeded: 2, filtered: 1, failed: 1, cancelled: 0 });
  });

  it.each([
    [false, 2],
    [false, 5],
    [true, 2],
    [true, 5],
    [true, 1],
    [true, 4],
  ])(
    'survives a resume (dedupe first: %s, dying after commit %i): repeats dropped, nothing twice',
    async (first, commits) => {
      const { result, outcomes, second } = await dieAndResume(generatedFlow(first), commits, noHttp);
      expect(result.status).toBe('succeeded');
      expect(outcomes.map((o) => o.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
      const passed = outcomes.filter((o) => o.status === 'succeeded').map((o) => o.seq);
      expect(passed.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(second.outcomes.length).toBeGreaterThan(0);
      expect(result.counts).toEqual({ read: 40, succeeded: 11, filtered: 29, failed: 0, cancelled: 0 });
      expect(result.nodeCounts.dedupe).toEqual({ in: 40, out: 11, error: 0, filtered: 29 });
    },
  );
});
