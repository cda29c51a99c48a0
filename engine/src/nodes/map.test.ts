import { EXPRESSION_LIMITS } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { startRun } from '../run.js';
import type { Item, TransformContext } from '../runtime.js';
import { fakeConnectors, flowOf, MemoryRunStore, SimulatedClock, testRuntime } from '../testing/index.js';
import { map, shallowCopy } from './map.js';

async function runMap(records: Record<string, unknown>[], params: Record<string, unknown>) {
  const flow = flowOf([
    { id: 'start', type: 'manual' },
    { id: 'src', type: 'inline-records', params: { records, keyField: 'key' } },
    { id: 'shape', type: 'map', params },
    { id: 'out', type: 'collect' },
  ]);
  const clock = new SimulatedClock(0);
  const store = new MemoryRunStore();
  const run = startRun({
    runId: 'r',
    flow,
    clock,
    runtime: testRuntime,
    store,
    connectors: fakeConnectors(() => {
      throw new Error('no requests');
    }),
  });
  return { result: await clock.run(run.done), store };
}

async function mapRecords(records: Record<string, unknown>[], params: Record<string, unknown>) {
  const { store } = await runMap(records, params);
  return store.collected.map((c) => c.data as Record<string, unknown>);
}

describe('map', () => {
  it('adds fields to a copy, keeping the record it was given unchanged, nested paths included', async () => {
    const records = [{ key: 'a', amount: 2, address: { city: 'Oslo', zip: '0150' } }];
    const [out] = await mapRecords(records, {
      fields: [
        { name: 'total', expression: 'amount * 2' },
        { name: 'address.country', expression: '"NO"' },
      ],
    });
    expect(out).toEqual({ key: 'a', amount: 2, total: 4, address: { city: 'Oslo', zip: '0150', country: 'NO' } });
    expect(records[0]).toEqual({ key: 'a', amount: 2, address: { city: 'Oslo', zip: '0150' } });
  });

  it('fails alone a record whose expression runs past the time limit, and the run goes on', async () => {
    const loop = '($f := function($x){ $f($x + 1) }; $f(1))';
    const records = Array.from({ length: 6 }, (_, i) => ({ key: `r${i}`, n: i, loop: i % 3 === 1 }));
    const { result, store } = await runMap(records, {
      fields: [{ name: 'twice', expression: `loop ? ${loop} : n * 2` }],
    });
    expect(result.status).toBe('succeeded');
    expect(result.counts).toEqual({ read: 6, succeeded: 4, filtered: 0, failed: 2, cancelled: 0 });
    expect(store.byStatus('failed').map((o) => [o.key, o.nodeId, o.error?.message])).toEqual(
      ['r1', 'r4'].map((key) => [
        key,
        'shape',
        `field "twice": expression \`loop ? ${loop} : n * 2\` ran longer than ${EXPRESSION_LIMITS.timeout} ms (the limit)`,
      ]),
    );
    expect(store.collected.map((c) => (c.data as { twice: number }).twice)).toEqual([0, 4, 6, 10]);
  });

  it('lets the event loop turn between records that run to the limit, not only once their batch is done', async () => {
    const loop = '($f := function($x){ $f($x + 1) }; $f(1))';
    const records = Array.from({ length: 4 }, (_, i) => ({ key: `r${i}`, n: i }));
    const started = performance.now();
    let firedAfter: number | undefined;
    setTimeout(() => {
      firedAfter = performance.now() - started;
    }, 1);
    const { result } = await runMap(records, { fields: [{ name: 'x', expression: loop }] });
    const ran = performance.now() - started;
    expect(result.counts).toMatchObject({ read: 4, failed: 4 });
    expect(ran).toBeGreaterThanOrEqual(4 * EXPRESSION_LIMITS.timeout - 20);
    // the timer fires after the first record's evaluation, not after all four
    expect(firedAfter).toBeLessThan(2 * EXPRESSION_LIMITS.timeout);
  });

  it('keeps a field named __proto__ as data, never as the copy’s prototype', async () => {
    const record = JSON.parse('{"key": "p", "__proto__": {"polluted": true}, "n": 1}') as Record<string, unknown>;
    const item = { seq: 0, key: 'p', data: record, source: record, batchNo: 1, attempts: 0, hops: [] };
    let emitted: Item[] = [];
    const ctx = {
      emit: async (_port: string, items: Item[]) => {
        emitted = items;
      },
      fail: async () => {},
    } as unknown as TransformContext;
    await map(ctx, { fields: [{ name: 'm', expression: 'n + 1' }], keep: 'all', remove: [] }, undefined).process([
      item,
    ]);
    const out = emitted[0]?.data as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect((out as { polluted?: boolean }).polluted).toBeUndefined();
    expect(JSON.stringify(out)).toBe('{"key":"p","__proto__":{"polluted":true},"n":1,"m":2}');
    expect(JSON.stringify(record)).toBe('{"key":"p","__proto__":{"polluted":true},"n":1}');
    expect(Object.getPrototypeOf(shallowCopy({ a: 1 }))).toBe(Object.prototype);
  });
});
