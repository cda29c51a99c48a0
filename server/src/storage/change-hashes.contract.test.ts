import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Storage } from './port.js';
import { type StoreUnderTest, storesUnderTest } from './stores-under-test.js';

/** The change-hash methods of the storage port, on every store (see contract.test.ts). */
describe.each(storesUnderTest())('storage contract, change hashes: $kind', (kind: StoreUnderTest) => {
  let s: Storage;

  beforeAll(async () => {
    s = await kind.open();
  });
  afterAll(async () => {
    await s.close();
    await kind.dispose();
  });

  async function newFlow() {
    const id = `flow_${Math.random().toString(36).slice(2, 10)}`;
    await s.flows.create({ id, name: id, description: null, document: '{}', at: Date.now() });
    return id;
  }
  const newRun = (flowId: string) =>
    s.runs.create({ flowId, flowVersionId: null, flowName: 'contract', trigger: 'api' });

  it('keeps a run’s hashes aside until it is promoted, then they are current for its flow and node', async () => {
    const flowId = await newFlow();
    const run = await newRun(flowId);
    await s.changes.stageHashes({
      runId: run,
      nodeId: 'n',
      entries: [
        ['a', '00112233445566ff'],
        ['b', '0000000000000001'],
      ],
    });
    await s.changes.stageHashes({ runId: run, nodeId: 'n', entries: [['a', 'aaaaaaaaaaaaaaaa']] });
    expect(await s.changes.currentHashes({ flowId, nodeId: 'n', keys: ['a', 'b'] })).toEqual(new Map());
    expect(await s.changes.promoteHashes({ runId: run, flowId })).toBe(2);
    expect(await s.changes.currentHashes({ flowId, nodeId: 'n', keys: ['a', 'b', 'c'] })).toEqual(
      new Map([
        ['a', 'aaaaaaaaaaaaaaaa'],
        ['b', '0000000000000001'],
      ]),
    );
    // promoting again finds nothing staged
    expect(await s.changes.promoteHashes({ runId: run, flowId })).toBe(0);
    expect(await s.changes.currentHashes({ flowId, nodeId: 'other', keys: ['a'] })).toEqual(new Map());
  });

  it('a later run replaces the hashes of its keys only; a discarded run changes nothing', async () => {
    const flowId = await newFlow();
    const first = await newRun(flowId);
    await s.changes.stageHashes({
      runId: first,
      nodeId: 'n',
      entries: [
        ['a', '1111111111111111'],
        ['b', '2222222222222222'],
      ],
    });
    await s.changes.promoteHashes({ runId: first, flowId });
    const failed = await newRun(flowId);
    await s.changes.stageHashes({ runId: failed, nodeId: 'n', entries: [['a', '9999999999999999']] });
    await s.changes.discardHashes(failed);
    expect(await s.changes.promoteHashes({ runId: failed, flowId })).toBe(0);
    const second = await newRun(flowId);
    await s.changes.stageHashes({
      runId: second,
      nodeId: 'n',
      entries: [
        ['b', '3333333333333333'],
        ['c', '4444444444444444'],
      ],
    });
    await s.changes.promoteHashes({ runId: second, flowId });
    expect(await s.changes.currentHashes({ flowId, nodeId: 'n', keys: ['a', 'b', 'c'] })).toEqual(
      new Map([
        ['a', '1111111111111111'],
        ['b', '3333333333333333'],
        ['c', '4444444444444444'],
      ]),
    );
  });

  it('drops what a run that ended without discarding left staged when a later run of the flow is promoted', async () => {
    const flowId = await newFlow();
    const abandoned = await newRun(flowId);
    await s.changes.stageHashes({ runId: abandoned, nodeId: 'n', entries: [['a', '1111111111111111']] });
    const epoch = (await s.leases.claim(abandoned, ['queued'])) as number;
    s.runStore.fence(abandoned, epoch);
    await s.runStore.setStatus(abandoned, { status: 'cancelled', at: Date.now() });
    const next = await newRun(flowId);
    await s.changes.stageHashes({ runId: next, nodeId: 'n', entries: [['b', '2222222222222222']] });
    await s.changes.promoteHashes({ runId: next, flowId });
    // nothing of the cancelled run is left to promote
    expect(await s.changes.promoteHashes({ runId: abandoned, flowId })).toBe(0);
    expect(await s.changes.currentHashes({ flowId, nodeId: 'n', keys: ['a', 'b'] })).toEqual(
      new Map([['b', '2222222222222222']]),
    );
  });

  it('answers for many keys at once', async () => {
    const flowId = await newFlow();
    const run = await newRun(flowId);
    const entries = Array.from({ length: 1200 }, (_, i) => [`key-${i}`, i.toString(16).padStart(16, '0')] as const);
    await s.changes.stageHashes({ runId: run, nodeId: 'n', entries });
    await s.changes.promoteHashes({ runId: run, flowId });
    const found = await s.changes.currentHashes({ flowId, nodeId: 'n', keys: entries.map(([k]) => k) });
    expect(found.size).toBe(1200);
    expect(found.get('key-1199')).toBe((1199).toString(16).padStart(16, '0'));
    expect(await s.changes.currentHashes({ flowId, nodeId: 'n', keys: [] })).toEqual(new Map());
  });
});
