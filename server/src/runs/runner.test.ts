import { afterEach, describe, expect, it, vi } from 'vitest';
import { openTestSluice, type TestSluice } from '../http/test-support.js';
import { sqliteClient } from '../storage/sqlite/index.js';

let t: TestSluice | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('runner', () => {
  it('handles a refused status write of a run that cannot start: the run is stored failed at the next scan', async () => {
    t = await openTestSluice({ start: false });
    const { runs, runner, store } = t.parts;
    // a run pinned to no flow version cannot start: the runner stores it failed
    const runId = await runs.create({ flowId: null, flowVersionId: null, flowName: 'gone', trigger: 'api' });
    const setStatus = store.setStatus.bind(store);
    let refusals = 0;
    store.setStatus = async (id, update) => {
      if (refusals++ === 0) throw new Error('database or disk is full');
      return setStatus(id, update);
    };
    const finished = runner.wait(runId);
    runner.pump();
    // the refusal is handled (an unhandled rejection fails this file) and leaves the run stored as it was
    await vi.waitFor(() => expect(refusals).toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await runs.get(runId)).status).toBe('queued');
    runner.pump();
    const result = await finished;
    expect(result.status).toBe('failed');
    expect(refusals).toBe(2);
    const stored = await runs.get(runId);
    expect(stored.status).toBe('failed');
    expect(stored.error).toMatch(/^the flow version cannot run: /);
  });

  it('stops a run whose lease another process took, writing nothing more for it', async () => {
    t = await openTestSluice({ start: false });
    const { flows, runs, runner } = t.parts;
    const client = sqliteClient(t.parts.storage).$client;
    const flow = await flows.create({
      format: 1,
      name: 'Slow',
      nodes: [
        { id: 'start', type: 'manual' },
        { id: 'src', type: 'generate', params: { count: 5 } },
        { id: 'b', type: 'batch', params: { size: 1 } },
        { id: 'wait', type: 'delay', params: { ms: 60_000 } },
      ],
      edges: [
        { source: 'start', target: 'src' },
        { source: 'src', target: 'b' },
        { source: 'b', target: 'wait' },
      ],
    });
    const runId = await runner.enqueue(flow.id, 'api');
    await vi.waitFor(async () => expect((await runs.get(runId)).waiting).not.toBeNull());
    expect(runner.activeCount).toBe(1);
    const epoch = client.prepare('SELECT lease_epoch FROM runs WHERE id = ?').pluck().get(Number(runId)) as number;
    expect(epoch).toBe(1);
    // another process claims the run (its lease seen expired there): a new owner and epoch
    client
      .prepare('UPDATE runs SET lease_owner = ?, lease_epoch = lease_epoch + 1 WHERE id = ?')
      .run('elsewhere/1/x', Number(runId));
    // this process's next status write for the run is refused: the run stops here
    await expect(runner.pause(runId)).resolves.toBeUndefined();
    await vi.waitFor(() => expect(runner.activeCount).toBe(0), { timeout: 5000 });
    await t.parts.store.flush();
    const stored = await runs.get(runId);
    expect(stored.status).toBe('running');
    expect(stored.finishedAt).toBeNull();
    expect(client.prepare('SELECT lease_owner FROM runs WHERE id = ?').pluck().get(Number(runId))).toBe(
      'elsewhere/1/x',
    );
  });

  it('claims no runs when told not to (an API-only process): what it queues waits; its test runs execute here', async () => {
    t = await openTestSluice({ claims: false });
    const { flows, runs, runner } = t.parts;
    const document = {
      format: 1 as const,
      name: 'Small',
      nodes: [
        { id: 'start', type: 'manual' },
        { id: 'src', type: 'generate', params: { count: 3 } },
      ],
      edges: [{ source: 'start', target: 'src' }],
    };
    const flow = await flows.create(document);
    const runId = await runner.enqueue(flow.id, 'api');
    await runner.pump();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await runs.get(runId)).status).toBe('queued');
    expect(runner.activeCount).toBe(0);
    const testId = await runner.test({ flowId: flow.id, document, limit: 3, sendWrites: false });
    expect((await runner.wait(testId)).status).toBe('succeeded');
    expect((await runs.get(runId)).status).toBe('queued');
  });
});
