import { validateFlow } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { startRun } from '../run.js';
import type { Item, NodeContext } from '../runtime.js';
import { fakeConnectors, MemoryRunStore, SimulatedClock } from '../testing/index.js';
import { map, shallowCopy } from './map.js';

async function mapRecords(records: Record<string, unknown>[], params: Record<string, unknown>) {
  const result = validateFlow({
    format: 1,
    name: 'map',
    nodes: [
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records', params: { records, keyField: 'key' } },
      { id: 'shape', type: 'map', params },
      { id: 'out', type: 'collect' },
    ],
    edges: [
      { source: 'start', target: 'src' },
      { source: 'src', target: 'shape' },
      { source: 'shape', target: 'out' },
    ],
  });
  if (!result.ok || !result.flow) throw new Error(JSON.stringify(result.problems));
  const clock = new SimulatedClock(0);
  const store = new MemoryRunStore();
  const run = startRun({
    runId: 'r',
    flow: result.flow,
    clock,
    store,
    connectors: fakeConnectors(() => {
      throw new Error('no requests');
    }),
  });
  await clock.run(run.done);
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

  it('keeps a field named __proto__ as data, never as the copy’s prototype', async () => {
    const record = JSON.parse('{"key": "p", "__proto__": {"polluted": true}, "n": 1}') as Record<string, unknown>;
    const item = { seq: 0, key: 'p', data: record, source: record, batchNo: 1, attempts: 0, hops: [] };
    let emitted: Item[] = [];
    const ctx = {
      emit: async (_port: string, items: Item[]) => {
        emitted = items;
      },
      fail: async () => {},
    } as unknown as NodeContext;
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
