import { describe, expect, it } from 'vitest';
import type { ChangeHashes } from '../ports.js';
import { startRun } from '../run.js';
import {
  fakeConnectors,
  flowOf,
  MemoryChangeHashes,
  MemoryRunStore,
  SimulatedClock,
  testRuntime,
} from '../testing/index.js';

const noHttp = fakeConnectors(() => {
  throw new Error('no requests');
});

async function run(records: Record<string, unknown>[], changes: ChangeHashes | undefined, content?: string) {
  const flow = flowOf([
    { id: 'start', type: 'manual' },
    { id: 'src', type: 'inline-records', params: { records, keyField: 'id' } },
    { id: 'batch', type: 'batch', params: { size: 4 } },
    { id: 'changed', type: 'changed-only', params: content ? { content } : {} },
    { id: 'out', type: 'collect' },
  ]);
  const clock = new SimulatedClock(0);
  const store = new MemoryRunStore();
  const result = await clock.run(
    startRun({
      runId: 'r',
      flow,
      clock,
      runtime: testRuntime,
      store,
      connectors: noHttp,
      ...(changes ? { changes } : {}),
    }).done,
  );
  return { result, store, passed: store.collected.map((c) => c.key) };
}

const items = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `k${i}`, title: `item ${i}`, seen: 1 }));

describe('changed-only', () => {
  it('passes every record the first time, then exactly the new and changed ones once a run succeeded', async () => {
    const hashes = new MemoryChangeHashes();
    const first = await run(items(10), hashes.forRun());
    expect(first.passed).toHaveLength(10);
    hashes.promote();

    const second = items(12);
    for (const i of [2, 5, 7]) (second[i] as { title: string }).title += ' (edited)';
    const again = await run(second, hashes.forRun());
    expect(again.passed).toEqual(['k2', 'k5', 'k7', 'k10', 'k11']);
    expect(again.store.byStatus('filtered').map((o) => o.error?.code)).toEqual(Array(7).fill('unchanged'));
    expect(again.store.byStatus('filtered')[0]?.error?.message).toBe('unchanged since the last successful run');
    expect(again.result.nodeCounts.changed).toEqual({ in: 12, out: 5, error: 0, filtered: 7 });
    hashes.promote();

    // nothing changed since: nothing passes
    expect((await run(second, hashes.forRun())).passed).toEqual([]);
  });

  it('compares against the last successful run only: what a failed run staged is not kept', async () => {
    const hashes = new MemoryChangeHashes();
    await run(items(4), hashes.forRun());
    hashes.promote();
    const edited = items(4).map((r) => ({ ...r, title: `${r.title}!` }));
    await run(edited, hashes.forRun()); // this run "failed": not promoted
    expect((await run(edited, hashes.forRun())).passed).toEqual(['k0', 'k1', 'k2', 'k3']);
  });

  it('compares only what the content expression picks', async () => {
    const hashes = new MemoryChangeHashes();
    await run(items(3), hashes.forRun(), 'title');
    hashes.promote();
    const touched = items(3).map((r, i) => ({ ...r, seen: 2, title: i === 1 ? 'new title' : r.title }));
    expect((await run(touched, hashes.forRun(), 'title')).passed).toEqual(['k1']);
  });

  it('fails its records, saying why, in a run given no hashes', async () => {
    const { result, store } = await run(items(2), undefined);
    expect(result.counts.failed).toBe(2);
    expect(store.byStatus('failed')[0]?.error?.message).toBe(
      'changed-only nodes need stored hashes, and this run has none',
    );
  });
});
