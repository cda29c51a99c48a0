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

  it('cancels a run nobody holds (its executor died) at once, even in a process that executes nothing', async () => {
    t = await openTestSluice({ claims: false });
    const { runs, runner } = t.parts;
    const client = sqliteClient(t.parts.storage).$client;
    const runId = await runs.create({ flowId: null, flowVersionId: null, flowName: 'orphan', trigger: 'api' });
    // stored running by a process whose lease has expired, with 7 records read and 5 settled
    client
      .prepare(
        `UPDATE runs SET status = 'running', read = 7, succeeded = 4, failed = 1, lease_owner = 'elsewhere/1/x',
           executor = 'elsewhere/1/x', lease_expires_at = ?, lease_epoch = 1 WHERE id = ?`,
      )
      .run(Date.now() - 1000, Number(runId));
    await runner.cancel(runId);
    const run = await runs.get(runId);
    expect(run.status).toBe('cancelled');
    expect(run.finishedAt).not.toBeNull();
    // the records read but not settled are counted cancelled: the accounting adds up
    expect(run.counts).toEqual({ read: 7, succeeded: 4, filtered: 0, failed: 1, cancelled: 2 });
    // this process took it over to cancel it, and let it go
    expect(run.claims).toBe(2);
    expect(run.executor).toBe(t.parts.storage.leases.owner);
    expect(client.prepare('SELECT lease_owner FROM runs WHERE id = ?').pluck().get(Number(runId))).toBeNull();
  });

  it('leaves a pause for the process holding a run, which takes it up; the next holder takes up what is left', async () => {
    t = await openTestSluice({ start: false });
    const { flows, runs, runner } = t.parts;
    const client = sqliteClient(t.parts.storage).$client;
    const flow = await flows.create({
      format: 1,
      name: 'Held elsewhere',
      nodes: [
        { id: 'start', type: 'manual' },
        { id: 'src', type: 'generate', params: { count: 50 } },
        { id: 'b', type: 'batch', params: { size: 1 } },
        { id: 'wait', type: 'delay', params: { ms: 100 } },
      ],
      edges: [
        { source: 'start', target: 'src' },
        { source: 'src', target: 'b' },
        { source: 'b', target: 'wait' },
      ],
    });
    const runId = await runner.enqueue(flow.id, 'api');
    // another process holds the run, live
    client
      .prepare(
        `UPDATE runs SET status = 'running', lease_owner = 'elsewhere/1/x', lease_expires_at = ?, lease_epoch = 1 WHERE id = ?`,
      )
      .run(Date.now() + 60_000, Number(runId));
    await runner.pause(runId);
    // asked of the holder: stored on the run, its status unchanged until the holder takes it up
    expect(client.prepare('SELECT control FROM runs WHERE id = ?').pluck().get(Number(runId))).toBe('pause');
    expect((await runs.get(runId)).status).toBe('running');
    // a resume is refused: it is not paused
    await expect(runner.resume(runId)).rejects.toMatchObject({ code: 'bad_state' });
    // the holder dies: this process takes the run over and starts it with the pause asked
    client.prepare('UPDATE runs SET lease_expires_at = ? WHERE id = ?').run(Date.now() - 1, Number(runId));
    await runner.pump();
    await vi.waitFor(async () => expect((await runs.get(runId)).status).toBe('paused'), { timeout: 5000 });
    expect(client.prepare('SELECT control FROM runs WHERE id = ?').pluck().get(Number(runId))).toBeNull();
    expect(await runs.get(runId)).toMatchObject({ claims: 2, executor: t.parts.storage.leases.owner });
    await runner.cancel(runId);
    expect((await runner.wait(runId)).status).toBe('cancelled');
  });
});
