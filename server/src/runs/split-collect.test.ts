import { flowDocument } from '@sluice/engine/testing';
import type { CollectedRecord, RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestSluice, type TestSluice } from '../http/test-support.js';

/** A split record's parts at collect nodes, through the real runner and store. */
let t: TestSluice;
beforeAll(async () => {
  t = await openTestSluice({ workOrders: 10 });
});
afterAll(() => t?.close());

const orders = [
  { key: 'o1', lines: [{ sku: 'x' }, { sku: 'y' }, { sku: 'z' }] },
  { key: 'o2', lines: [{ sku: 'x' }] },
];

describe('split parts at collect nodes', () => {
  it('keeps every part, as a list under its record, at each collect node', async () => {
    const document = flowDocument(
      [
        { id: 'start', type: 'manual' },
        { id: 'src', type: 'inline-records', params: { records: orders, keyField: 'key' } },
        { id: 'lines', type: 'split', params: { field: 'lines', merge: true } },
        { id: 'first', type: 'collect' },
        { id: 'second', type: 'collect' },
      ],
      [
        { source: 'start', target: 'src' },
        { source: 'src', target: 'lines' },
        { source: 'lines', target: 'first' },
        { source: 'lines', target: 'second' },
      ],
      { name: 'Split into two collects' },
    );
    const created = await t.app.request('/api/flows', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(document),
    });
    const { id } = (await created.json()) as { id: string };
    const started = await t.app.request(`/api/flows/${id}/runs`, { method: 'POST' });
    const { runId } = (await started.json()) as { runId: string };
    await t.parts.runner.wait(runId);
    const run = (await (await t.app.request(`/api/runs/${runId}`)).json()) as RunDetail;
    expect(run.status).toBe('succeeded');
    expect(run.counts).toEqual({ read: 2, succeeded: 2, filtered: 0, failed: 0, cancelled: 0 });
    const kept = async (node: string) => {
      const res = await t.app.request(`/api/runs/${runId}/collected?node=${node}&limit=10`);
      expect(res.status).toBe(200);
      return ((await res.json()) as { items: CollectedRecord[] }).items.map((c) => [c.key, c.data]);
    };
    const lists = [
      [
        'o1',
        [
          { key: 'o1', sku: 'x' },
          { key: 'o1', sku: 'y' },
          { key: 'o1', sku: 'z' },
        ],
      ],
      ['o2', [{ key: 'o2', sku: 'x' }]],
    ];
    expect(await kept('first')).toEqual(lists);
    expect(await kept('second')).toEqual(lists);
  });
});
