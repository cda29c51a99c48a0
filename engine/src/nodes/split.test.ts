import { describe, expect, it } from 'vitest';
import { startRun } from '../run.js';
import { fakeConnectors, flowOf, json, MemoryRunStore, SimulatedClock, testRuntime } from '../testing/index.js';

const orders = [
  {
    key: 'o1',
    site: 'A',
    lines: [
      { sku: 'x', qty: 1 },
      { sku: 'y', qty: 2 },
    ],
  },
  { key: 'o2', site: 'B', lines: [] },
  { key: 'o3', site: 'A', lines: 'none' },
  { key: 'o4', site: 'C', lines: [{ sku: 'z', qty: 3 }] },
];

async function runSplit(params: Record<string, unknown>, write?: (body: Record<string, unknown>) => number) {
  const nodes = [
    { id: 'start', type: 'manual' },
    { id: 'src', type: 'inline-records', params: { records: orders, keyField: 'key' } },
    { id: 'split', type: 'split', params },
    write
      ? { id: 'out', type: 'http-write', params: { url: 'http://erp.test/lines', retry: { maxAttempts: 1 } } }
      : { id: 'out', type: 'collect' },
  ];
  const sent: string[] = [];
  const connectors = fakeConnectors((req, body) => {
    sent.push(req.headers['Idempotency-Key'] as string);
    return json(write?.(body as Record<string, unknown>) ?? 201, {});
  });
  const clock = new SimulatedClock(0);
  const store = new MemoryRunStore();
  const run = startRun({ runId: 'r', flow: flowOf(nodes), clock, runtime: testRuntime, store, connectors });
  return { result: await clock.run(run.done), store, sent };
}

describe('split', () => {
  it('makes one record per element, keyed record#index, with the parent fields chosen', async () => {
    const { result, store } = await runSplit({ field: 'lines', as: 'line', keep: ['key', 'site'], indexField: 'i' });
    // a collect node keeps a split record's parts together, as a list under the record
    expect(store.collected.map((c) => [c.key, c.data])).toEqual([
      [
        'o1',
        [
          { key: 'o1', site: 'A', line: { sku: 'x', qty: 1 }, i: 0 },
          { key: 'o1', site: 'A', line: { sku: 'y', qty: 2 }, i: 1 },
        ],
      ],
      ['o4', [{ key: 'o4', site: 'C', line: { sku: 'z', qty: 3 }, i: 0 }]],
    ]);
    // one outcome per record read: the parent settles when its elements have
    expect(result.counts).toEqual({ read: 4, succeeded: 2, filtered: 1, failed: 1, cancelled: 0 });
    expect(store.byStatus('filtered')[0]).toMatchObject({ key: 'o2', nodeId: 'split', error: { code: 'empty_array' } });
    expect(store.byStatus('failed')[0]?.error?.message).toBe('field "lines" holds string, not an array');
    // split counts records; the node after it counts elements
    expect(result.nodeCounts.split).toEqual({ in: 4, out: 2, error: 1, filtered: 1 });
    expect(result.nodeCounts.out).toEqual({ in: 3, out: 3, error: 0, filtered: 0 });
    expect(result.nodeCounts.src).toEqual({ in: 0, out: 4, error: 0, filtered: 0 });
  });

  it('merges object elements when asked, keeping every other parent field by default', async () => {
    const { store } = await runSplit({ field: 'lines', merge: true });
    expect(store.collected[0]?.data).toEqual([
      { key: 'o1', site: 'A', sku: 'x', qty: 1 },
      { key: 'o1', site: 'A', sku: 'y', qty: 2 },
    ]);
  });

  it('writes each element under its own idempotency key; one failing element fails its record, naming it', async () => {
    const { result, store, sent } = await runSplit({ field: 'lines', as: 'line' }, (body) =>
      (body.line as { sku: string }).sku === 'y' ? 422 : 201,
    );
    expect(sent).toEqual(['r:out:o1#0', 'r:out:o1#1', 'r:out:o4#0']);
    const failed = store.byStatus('failed').find((o) => o.key === 'o1');
    expect(failed).toMatchObject({ nodeId: 'out', payload: { key: 'o1', site: 'A', line: { sku: 'y', qty: 2 } } });
    expect(failed?.error?.message).toMatch(/^o1#1: /);
    expect(result.counts).toEqual({ read: 4, succeeded: 1, filtered: 1, failed: 2, cancelled: 0 });
    expect(result.nodeCounts.out).toEqual({ in: 3, out: 2, error: 1, filtered: 0 });
  });
});
