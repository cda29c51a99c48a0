import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../errors.js';
import { PgRunsCore } from './runs-core.js';
import { useTestDatabase } from './test-database.js';
import { seedFlow } from './test-seed.js';

const t = useTestDatabase();

let flows = 0;
/** A new flow of its own for each test, with its version's id. */
async function flow(): Promise<{ flowId: string; versionId: number }> {
  const flowId = `flow-${++flows}`;
  return { flowId, versionId: await seedFlow(t.db, flowId) };
}

describe('PostgreSQL runs: creating', () => {
  it('numbers a flow’s runs 1, 2, 3… even when twenty are created at once', async () => {
    const runs = new PgRunsCore(t.db);
    const { flowId, versionId } = await flow();
    const ids = await Promise.all(
      Array.from({ length: 20 }, () =>
        runs.create({ flowId, flowVersionId: versionId, flowName: flowId, trigger: 'api' }),
      ),
    );
    expect(new Set(ids).size).toBe(20);
    const numbers = await Promise.all(ids.map(async (id) => (await runs.get(id)).runNumber));
    expect([...numbers].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('gives test runs and runs of no flow no number, and does not count them', async () => {
    const runs = new PgRunsCore(t.db);
    const { flowId, versionId } = await flow();
    const test = await runs.create({ flowId, flowVersionId: versionId, flowName: flowId, trigger: 'test' });
    const draft = await runs.create({ flowId: null, flowVersionId: null, flowName: 'draft', trigger: 'test' });
    const first = await runs.create({ flowId, flowVersionId: versionId, flowName: flowId, trigger: 'manual' });
    expect((await runs.get(test)).runNumber).toBeNull();
    expect((await runs.get(draft)).runNumber).toBeNull();
    expect((await runs.get(first)).runNumber).toBe(1);
  });

  it('says a flow that does not exist does not exist', async () => {
    const runs = new PgRunsCore(t.db);
    const err = await runs
      .create({ flowId: 'no-such-flow', flowVersionId: null, flowName: 'x', trigger: 'api' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
  });

  it('refuses a second run for a schedule slot with ConflictError slot_taken, also when both come at once', async () => {
    const runs = new PgRunsCore(t.db);
    const { flowId, versionId } = await flow();
    const slot = Date.UTC(2026, 0, 1, 9);
    const run = {
      flowId,
      flowVersionId: versionId,
      flowName: flowId,
      trigger: 'schedule' as const,
      scheduledFor: slot,
    };
    await runs.create(run);
    const err = await runs.create(run).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ code: 'slot_taken' });
    const both = await Promise.allSettled([
      runs.create({ ...run, scheduledFor: slot + 60_000 }),
      runs.create({ ...run, scheduledFor: slot + 60_000 }),
    ]);
    expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = both.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(ConflictError);
    expect(refused.reason).toMatchObject({ code: 'slot_taken' });
    // the refused creates left nothing behind
    expect((await runs.list({ flowId, limit: 10 })).items.map((r) => r.runNumber)).toEqual([2, 1]);
  });

  it('stores a run’s inputs and retry selection with it', async () => {
    const runs = new PgRunsCore(t.db);
    const { flowId, versionId } = await flow();
    const inputs = Array.from({ length: 7 }, (_, i) => ({ n: i, text: `ü ${i}`, nested: { b: 1, a: 2 } }));
    const id = await runs.create({ flowId, flowVersionId: versionId, flowName: flowId, trigger: 'webhook', inputs });
    expect(await runs.inputs(id, 0, 100)).toEqual(inputs);
    expect(await runs.inputs(id, 5, 100)).toEqual(inputs.slice(5));
    expect(await runs.inputs(id, 2, 2)).toEqual(inputs.slice(2, 4));
    // the fields keep their order (stored as text, not jsonb)
    expect(Object.keys((await runs.inputs(id, 0, 1))[0]?.nested as object)).toEqual(['b', 'a']);
    const retry = await runs.create({
      flowId,
      flowVersionId: versionId,
      flowName: flowId,
      trigger: 'retry',
      retryOf: id,
      selection: [{ seq: 3 }, { seq: 9, payload: { fixed: true } }],
    });
    expect(await runs.selectionSize(retry)).toBe(2);
    expect(await runs.selectionSize(id)).toBe(0);
    expect(await runs.versionOf(retry)).toEqual({
      flowVersionId: versionId,
      document: expect.any(String),
      retryOf: id,
      trigger: 'retry',
      startedAt: null,
    });
    const stored = await t.db.$client.query(
      'SELECT seq, payload FROM retry_selections WHERE run_id = $1 ORDER BY seq',
      [Number(retry)],
    );
    expect(stored.rows).toEqual([
      { seq: '3', payload: null },
      { seq: '9', payload: '{"fixed":true}' },
    ]);
  });
});

describe('PostgreSQL runs: reading', () => {
  it('reads a run with its batches, and says a missing one does not exist', async () => {
    const runs = new PgRunsCore(t.db, () => 5_000);
    const { flowId, versionId } = await flow();
    const id = await runs.create({ flowId, flowVersionId: versionId, flowName: flowId, trigger: 'api' });
    await t.db.$client.query(
      `UPDATE runs SET status = 'running', started_at = 6000, read = 3, succeeded = 2, failed = 1,
         node_counts = '{"map": {"in": 3}}', waiting = '{"kind": "delay", "nodeId": "d", "until": 7000}' WHERE id = $1`,
      [Number(id)],
    );
    await t.db.$client.query(
      `INSERT INTO batches (run_id, batch_no, size, succeeded, filtered, failed, started_at, finished_at)
         VALUES ($1, 1, 2, 2, 0, 0, 6000, 6500), ($1, 2, 1, 0, 0, 1, 6500, NULL)`,
      [Number(id)],
    );
    const run = await runs.get(id);
    expect(run).toMatchObject({
      id,
      runNumber: 1,
      flowId,
      flowVersion: 1,
      status: 'running',
      counts: { read: 3, succeeded: 2, filtered: 0, failed: 1, cancelled: 0 },
      nodeCounts: { map: { in: 3 } },
      waiting: { kind: 'delay', nodeId: 'd', until: new Date(7000).toISOString() },
      createdAt: new Date(5000).toISOString(),
      startedAt: new Date(6000).toISOString(),
      finishedAt: null,
      eta: null,
    });
    expect(run.batches).toEqual([
      {
        batchNo: 1,
        size: 2,
        succeeded: 2,
        filtered: 0,
        failed: 0,
        startedAt: new Date(6000).toISOString(),
        finishedAt: new Date(6500).toISOString(),
      },
      {
        batchNo: 2,
        size: 1,
        succeeded: 0,
        filtered: 0,
        failed: 1,
        startedAt: new Date(6500).toISOString(),
        finishedAt: null,
      },
    ]);
    await expect(runs.get('999999')).rejects.toBeInstanceOf(NotFoundError);
    await expect(runs.get('nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(runs.versionOf('999999')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('stamps runs with the database’s clock when given none', async () => {
    const runs = new PgRunsCore(t.db);
    const before = Date.now();
    const id = await runs.create({ flowId: null, flowVersionId: null, flowName: 'x', trigger: 'api' });
    const at = Date.parse((await runs.get(id)).createdAt);
    // the database runs on this machine: its clock and the process's agree to a second
    expect(Math.abs(at - before)).toBeLessThan(1_000);
  });

  it('lists runs newest first, a page at a time, with the filters SQLite has', async () => {
    // ten days ahead: after every run the other tests stamp with the database's clock
    let now = Date.now() + 10 * 86_400_000;
    const runs = new PgRunsCore(t.db, () => now);
    const a = await flow();
    const b = await flow();
    const made: { id: string; flowId: string; trigger: string; at: number }[] = [];
    for (let i = 0; i < 12; i++) {
      const f = i % 3 === 0 ? b : a;
      const trigger = i % 4 === 1 ? 'test' : i % 2 === 0 ? 'schedule' : 'manual';
      now += 1_000;
      const id = await runs.create({
        flowId: f.flowId,
        flowVersionId: f.versionId,
        flowName: f.flowId,
        trigger: trigger as 'test' | 'schedule' | 'manual',
      });
      made.push({ id, flowId: f.flowId, trigger, at: now });
    }
    const mine = (flowIds: string[]) => made.filter((m) => flowIds.includes(m.flowId));
    const ids = (list: typeof made) => list.map((m) => m.id).reverse();
    // every page, by cursor, of the two flows' runs (other tests' runs are older: before `from`)
    const from = made[0]?.at as number;
    const seen: string[] = [];
    let cursor: number | undefined;
    for (;;) {
      const p = await runs.list({ from, limit: 3, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...p.items.map((r) => r.id));
      if (!p.nextCursor) break;
      cursor = Number(p.nextCursor);
    }
    expect(seen).toEqual(ids(mine([a.flowId, b.flowId]).filter((m) => m.trigger !== 'test')));
    expect((await runs.list({ flowId: a.flowId, limit: 50 })).items.map((r) => r.id)).toEqual(
      ids(mine([a.flowId]).filter((m) => m.trigger !== 'test')),
    );
    expect((await runs.list({ trigger: 'test', from, limit: 50 })).items.map((r) => r.id)).toEqual(
      ids(made.filter((m) => m.trigger === 'test')),
    );
    expect((await runs.list({ flowId: b.flowId, trigger: 'schedule', limit: 50 })).items.map((r) => r.id)).toEqual(
      ids(mine([b.flowId]).filter((m) => m.trigger === 'schedule')),
    );
    // a time range: created at or after `from`, before `to`
    const range = made.slice(3, 8);
    expect(
      (await runs.list({ from: range[0]?.at, to: (range[4]?.at as number) + 1, limit: 50 })).items.map((r) => r.id),
    ).toEqual(ids(range.filter((m) => m.trigger !== 'test')));
    expect((await runs.list({ from: now + 1, limit: 50 })).items).toEqual([]);
    expect((await runs.list({ to: 1, limit: 50 })).items).toEqual([]);
    // by status: one cancelled
    const victim = made[2] as (typeof made)[number];
    expect(await runs.cancelQueued(victim.id)).toBe(true);
    expect(await runs.cancelQueued(victim.id)).toBe(false);
    const cancelled = await runs.list({ status: 'cancelled', from, limit: 50 });
    expect(cancelled.items.map((r) => r.id)).toEqual([victim.id]);
    expect(cancelled.items[0]).toMatchObject({ status: 'cancelled', finishedAt: new Date(now).toISOString() });
    const page = await runs.list({ status: 'queued', flowId: a.flowId, limit: 2 });
    expect(page.items).toHaveLength(2);
    expect(page.nextCursor).toBe(page.items[1]?.id);
  });

  it('gives a flow’s unfinished runs', async () => {
    const runs = new PgRunsCore(t.db);
    const { flowId, versionId } = await flow();
    const ids = [];
    for (let i = 0; i < 4; i++)
      ids.push(await runs.create({ flowId, flowVersionId: versionId, flowName: flowId, trigger: 'api' }));
    await t.db.$client.query(`UPDATE runs SET status = 'running' WHERE id = $1`, [Number(ids[1])]);
    await t.db.$client.query(`UPDATE runs SET status = 'succeeded' WHERE id = $1`, [Number(ids[2])]);
    expect(await runs.activeOf(flowId)).toEqual([
      { id: ids[0], status: 'queued' },
      { id: ids[1], status: 'running' },
      { id: ids[3], status: 'queued' },
    ]);
  });
});

describe('PostgreSQL runs: watermarks', () => {
  it('moves a watermark only forward', async () => {
    const runs = new PgRunsCore(t.db, () => 9_000);
    const { flowId } = await flow();
    await runs.advanceWatermarks(flowId, '1', { src: '2026-01-02T00:00:00Z', other: '5' });
    await runs.advanceWatermarks(flowId, '2', { src: '2026-01-01T00:00:00Z', other: '12' });
    expect(await runs.watermarksOf(flowId)).toEqual({ src: '2026-01-02T00:00:00Z', other: '12' });
    expect(await runs.listWatermarks(flowId)).toEqual([
      { nodeId: 'other', value: '12', runId: '2', updatedAt: new Date(9000).toISOString() },
      { nodeId: 'src', value: '2026-01-02T00:00:00Z', runId: '1', updatedAt: new Date(9000).toISOString() },
    ]);
    expect(await runs.watermarksOf('no-such-flow')).toEqual({});
  });

  it('keeps the later of two runs finishing at once, whichever commits last', async () => {
    const runs = new PgRunsCore(t.db);
    const { flowId } = await flow();
    for (let round = 0; round < 15; round++) {
      const low = String(round * 10 + 1);
      const high = String(round * 10 + 5);
      // both new in round 0 (two inserts race), both updates afterwards; the later run alternates
      const [first, second] = round % 2 ? [low, high] : [high, low];
      await Promise.all([
        runs.advanceWatermarks(flowId, '1', { a: first, b: second }),
        runs.advanceWatermarks(flowId, '2', { b: first, a: second }),
      ]);
      expect(await runs.watermarksOf(flowId)).toEqual({ a: high, b: high });
    }
  });
});
