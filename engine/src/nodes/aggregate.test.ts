import { describe, expect, it } from 'vitest';
import { startRun } from '../run.js';
import {
  dieAndResume,
  fakeConnectors,
  flowOf,
  MemoryRunStore,
  SimulatedClock,
  type TestNode,
  testRuntime,
} from '../testing/index.js';

const noHttp = fakeConnectors(() => {
  throw new Error('no requests');
});

const FIELDS = [
  { name: 'n', op: 'count' },
  { name: 'total', op: 'sum', value: 'amount' },
  { name: 'least', op: 'min', value: 'amount' },
  { name: 'most', op: 'max', value: 'amount' },
  { name: 'firstKey', op: 'first', value: 'key' },
  { name: 'lastKey', op: 'last', value: 'key' },
  { name: 'indexes', op: 'collect', value: 'index' },
];

function aggregateFlow(count: number, params: Record<string, unknown>, batch: number | null = 4, pageSize = 5) {
  const nodes: TestNode[] = [
    { id: 'start', type: 'manual' },
    { id: 'src', type: 'generate', params: { count, pageSize } },
  ];
  if (batch) nodes.push({ id: 'batch', type: 'batch', params: { size: batch } });
  nodes.push({ id: 'agg', type: 'aggregate', params }, { id: 'out', type: 'collect' });
  return flowOf(nodes);
}

async function run(flow: ReturnType<typeof flowOf>) {
  const clock = new SimulatedClock(0);
  const store = new MemoryRunStore();
  const result = await clock.run(
    startRun({ runId: 'r', flow, clock, runtime: testRuntime, store, connectors: noHttp }).done,
  );
  return { result, store };
}

/** What the generated records 0..count-1 give per group `index % 3`, computed directly. */
function expected(indexes: number[]) {
  const amount = (i: number) => (i * 7919) % 10_000;
  const groups = new Map<number, number[]>();
  for (const i of indexes) groups.set(i % 3, [...(groups.get(i % 3) ?? []), i]);
  return [...groups].map(([group, is]) => ({
    group,
    n: is.length,
    total: is.reduce((s, i) => s + amount(i), 0),
    least: Math.min(...is.map(amount)),
    most: Math.max(...is.map(amount)),
    firstKey: `rec-${is[0]}`,
    lastKey: `rec-${is.at(-1)}`,
    indexes: is,
  }));
}

describe('aggregate', () => {
  it('over the whole run: one new record per group, keyed by the group, after every record read', async () => {
    const { result, store } = await run(aggregateFlow(10, { groupBy: 'index % 3', scope: 'run', fields: FIELDS }));
    const groups = store.outcomes.filter((o) => o.key.startsWith('agg:'));
    expect(groups.map((o) => [o.key, o.seq, o.status, o.nodeId])).toEqual([
      ['agg:0', 10, 'succeeded', 'out'],
      ['agg:1', 11, 'succeeded', 'out'],
      ['agg:2', 12, 'succeeded', 'out'],
    ]);
    expect(store.collected.map((c) => c.data)).toEqual(expected(Array.from({ length: 10 }, (_, i) => i)));
    // the records read end at the aggregate; the groups are records of the run too
    expect(result.counts).toEqual({ read: 13, succeeded: 13, filtered: 0, failed: 0, cancelled: 0 });
    expect(result.nodeCounts.agg).toEqual({ in: 10, out: 10, error: 0, filtered: 0 });
    expect(result.nodeCounts.out).toEqual({ in: 3, out: 3, error: 0, filtered: 0 });
  });

  it('per batch: each batch’s groups go on as the path of their first record when the batch ends', async () => {
    const { result, store } = await run(aggregateFlow(10, { groupBy: 'index % 3', fields: FIELDS }, 4));
    const batches = [
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ];
    expect(store.collected.map((c) => c.data)).toEqual(batches.flatMap(expected));
    expect(store.collected.map((c) => c.key)).toEqual([
      'rec-0',
      'rec-1',
      'rec-2',
      'rec-4',
      'rec-5',
      'rec-6',
      'rec-8',
      'rec-9',
    ]);
    expect(result.counts).toEqual({ read: 10, succeeded: 10, filtered: 0, failed: 0, cancelled: 0 });
    expect(result.nodeCounts.agg).toEqual({ in: 10, out: 10, error: 0, filtered: 0 });
    expect(result.nodeCounts.out).toEqual({ in: 8, out: 8, error: 0, filtered: 0 });
    expect(store.batches.map((b) => b.size)).toEqual([4, 4, 2]);
  });

  it('fails the record that would open a group past maxGroups, or that gives sum no number, and goes on', async () => {
    const { result, store } = await run(
      aggregateFlow(8, {
        groupBy: 'index % 4',
        scope: 'run',
        maxGroups: 2,
        fields: [{ name: 'total', op: 'sum', value: 'index = 5 ? "five" : amount' }],
      }),
    );
    expect(store.byStatus('failed').map((o) => [o.key, o.error?.message])).toEqual([
      ['rec-2', 'more than 2 groups (maxGroups): this record would open another'],
      ['rec-3', 'more than 2 groups (maxGroups): this record would open another'],
      ['rec-5', 'field "total": sum needs numbers, got "five"'],
      ['rec-6', 'more than 2 groups (maxGroups): this record would open another'],
      ['rec-7', 'more than 2 groups (maxGroups): this record would open another'],
    ]);
    expect(result.nodeCounts.agg).toEqual({ in: 8, out: 3, error: 5, filtered: 0 });
    expect(result.counts).toEqual({ read: 10, succeeded: 5, filtered: 0, failed: 5, cancelled: 0 });
  });

  it.each([1, 3, 6, 8])(
    'over the whole run survives a resume (dying after commit %i): its groups are in the checkpoint',
    async (commits) => {
      const flow = aggregateFlow(30, { groupBy: 'index % 3', scope: 'run', fields: FIELDS }, 4, 7);
      const { result, outcomes, second } = await dieAndResume(flow, commits, noHttp);
      expect(result.status).toBe('succeeded');
      expect(second.collected.map((c) => c.data)).toEqual(expected(Array.from({ length: 30 }, (_, i) => i)));
      expect(outcomes.map((o) => o.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 33 }, (_, i) => i));
      expect(result.counts).toEqual({ read: 33, succeeded: 33, filtered: 0, failed: 0, cancelled: 0 });
      expect(result.nodeCounts.agg).toEqual({ in: 30, out: 30, error: 0, filtered: 0 });
    },
  );

  it.each([5, 6, 7])(
    'makes the same group records again after a resume while they were being sent (dying after commit %i)',
    async (commits) => {
      const flow = flowOf([
        { id: 'start', type: 'manual' },
        { id: 'src', type: 'generate', params: { count: 30, pageSize: 7 } },
        { id: 'agg', type: 'aggregate', params: { groupBy: 'index % 3', scope: 'run', fields: FIELDS } },
        { id: 'batch', type: 'batch', params: { size: 1 } },
        { id: 'out', type: 'collect' },
      ]);
      const { result, outcomes, first, second } = await dieAndResume(flow, commits, noHttp);
      expect(result.status).toBe('succeeded');
      const groups = [...first.collected, ...second.collected].map((c) => c.data);
      expect(groups).toEqual(expected(Array.from({ length: 30 }, (_, i) => i)));
      expect(outcomes.map((o) => o.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 33 }, (_, i) => i));
      expect(result.counts).toEqual({ read: 33, succeeded: 33, filtered: 0, failed: 0, cancelled: 0 });
    },
  );
});
