import type { Checkpoint, RecordOutcome, RunCommit } from '@sluice/engine';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../errors.js';
import { LeaseLostError, type Storage } from './port.js';
import { type StoreUnderTest, storesUnderTest } from './stores-under-test.js';

/**
 * One suite for the storage port, run against every store: what the server relies on holds on
 * SQLite and on PostgreSQL alike. Each store is opened the way the server opens it, on a real
 * database (a file; a fresh PostgreSQL database per run of this file); "another process" is a
 * second Storage opened on the same database with its own lease owner.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function checkpoint(lowWater: number): Checkpoint {
  return { version: 1, lowWater, nextBatch: 2, sourcesDone: [], nodeState: {}, breakers: {} };
}

const outcome = (seq: number, status: RecordOutcome['status'] = 'succeeded', key = `k-${seq}`): RecordOutcome => ({
  seq,
  key,
  status,
  nodeId: status === 'failed' ? 'write' : 'out',
  batchNo: 1 + Math.floor(seq / 10),
  attempts: 1,
  at: 1_700_000_000_000 + seq,
  ...(status === 'failed' ? { error: { message: 'HTTP 422: refused', httpStatus: 422 }, payload: { key } } : {}),
});

/**
 * A commit of outcomes `from`..`to - 1` whose checkpoint says everything below `to` is settled; its
 * counts are the run's so far (as the engine's are), those of positions 0..`to - 1`.
 */
function commitOf(from: number, to: number, status: (seq: number) => RecordOutcome['status'] = () => 'succeeded') {
  const outcomes = Array.from({ length: to - from }, (_, i) => outcome(from + i, status(from + i)));
  const all = Array.from({ length: to }, (_, seq) => status(seq));
  const count = (s: string) => all.filter((x) => x === s).length;
  return (read: number): RunCommit => ({
    outcomes,
    collected: [],
    counts: { read, succeeded: count('succeeded'), filtered: 0, failed: count('failed'), cancelled: 0 },
    nodeCounts: { out: { in: read, out: count('succeeded'), error: count('failed'), filtered: 0 } },
    checkpoint: checkpoint(to),
  });
}

describe.each(storesUnderTest())('storage contract: $kind', (kind: StoreUnderTest) => {
  let s: Storage;
  let other: Storage | undefined;

  beforeAll(async () => {
    s = await kind.open({ payloadCap: 300 });
  });
  afterEach(async () => {
    await other?.close();
    other = undefined;
  });
  afterAll(async () => {
    await s.close();
    await kind.dispose();
  });

  const newRun = (flowId: string | null = null, extra: { scheduledFor?: number } = {}) =>
    s.runs.create({ flowId, flowVersionId: null, flowName: 'contract', trigger: 'api', ...extra });

  async function newFlow(name = `flow ${Math.random().toString(36).slice(2, 8)}`) {
    const id = `flow_${Math.random().toString(36).slice(2, 10)}`;
    await s.flows.create({ id, name, description: null, document: JSON.stringify({ name }), at: Date.now() });
    return id;
  }

  describe('flows', () => {
    it('numbers versions in the database: concurrent saves never share a number', async () => {
      const id = await newFlow();
      const saved = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          s.flows.addVersion(id, { name: `v${i}`, description: null, document: `{"i":${i}}`, at: Date.now() }),
        ),
      );
      expect([...saved].sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
      expect((await s.flows.get(id))?.latestVersion).toBe(9);
      expect((await s.flows.versions(id)).map((v) => v.version)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    });

    it('disarms schedules when a flow is turned off or archived; removes a flow with all that hangs on it', async () => {
      const id = await newFlow();
      await s.slots.arm(id, 'sched', 1, 1000);
      await s.flows.set(id, { publishedVersion: 1, enabled: true }, 2000);
      expect((await s.flows.published()).map((f) => f.id)).toContain(id);
      await s.flows.set(id, { enabled: false }, 3000);
      expect((await s.slots.get(id, 'sched'))?.version).toBeNull();
      expect((await s.flows.published()).map((f) => f.id)).not.toContain(id);
      await s.flows.setArchived(id, true, 4000);
      expect((await s.flows.list(true)).map((f) => f.id)).toContain(id);
      expect((await s.flows.list(false)).map((f) => f.id)).not.toContain(id);
      await s.flows.remove(id);
      expect(await s.flows.get(id)).toBeUndefined();
      expect(await s.slots.get(id, 'sched')).toBeUndefined();
    });
  });

  describe('runs', () => {
    it('refuses a second run for one schedule slot with a conflict, not a database error', async () => {
      const flowId = await newFlow();
      await newRun(flowId, { scheduledFor: 60_000 });
      const second = newRun(flowId, { scheduledFor: 60_000 });
      await expect(second).rejects.toBeInstanceOf(ConflictError);
      await expect(second).rejects.toMatchObject({ code: 'slot_taken' });
      expect(await s.runs.activeOf(flowId)).toHaveLength(1);
    });

    it('numbers the runs of a flow without gaps or repeats when they are created at once', async () => {
      const flowId = await newFlow();
      const ids = await Promise.all(Array.from({ length: 10 }, () => newRun(flowId)));
      const numbers = await Promise.all(ids.map(async (id) => (await s.runs.get(id)).runNumber));
      expect([...numbers].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });
  });

  describe('run store', () => {
    it('stores commits in order, grouped, and reads them back by page, status and key', async () => {
      const runId = await newRun();
      for (let from = 0; from < 3000; from += 100)
        await s.runStore.commit(
          runId,
          commitOf(from, from + 100, (q) => (q % 7 === 0 ? 'failed' : 'succeeded'))(from + 100),
        );
      await s.runStore.flush(runId);
      const run = await s.runs.get(runId);
      expect(run.counts.read).toBe(3000);
      expect(run.counts.failed).toBe(Math.ceil(3000 / 7));
      const seen: number[] = [];
      let cursor: number | undefined;
      do {
        const page = await s.runs.records(runId, { limit: 700, ...(cursor === undefined ? {} : { cursor }) });
        seen.push(...page.items.map((r) => r.seq));
        cursor = page.nextCursor === null ? undefined : Number(page.nextCursor);
      } while (cursor !== undefined);
      expect(seen).toEqual(Array.from({ length: 3000 }, (_, i) => i));
      const failed = await s.runs.records(runId, { status: 'failed', limit: 5 });
      expect(failed.items.map((r) => r.seq)).toEqual([0, 7, 14, 21, 28]);
      expect(failed.items[1]?.error).toEqual({ message: 'HTTP 422: refused', httpStatus: 422 });
      expect(failed.items[1]?.payload).toEqual({ key: 'k-7' });
      expect((await s.runs.records(runId, { key: 'k-2999', limit: 5 })).items.map((r) => r.seq)).toEqual([2999]);
      expect(await s.runs.errorGroups(runId, 10)).toEqual([
        {
          message: 'HTTP 422: refused',
          code: null,
          httpStatus: 422,
          nodeId: 'write',
          count: 429,
          sampleKeys: ['k-0', 'k-7', 'k-14', 'k-21', 'k-28'],
        },
      ]);
    });

    it('stores what a source or a target sent as it came, NUL characters included', async () => {
      const runId = await newRun();
      const nul = 'a\u0000b';
      const failed: RecordOutcome = {
        ...outcome(0, 'failed', `key ${nul}`),
        error: { message: `HTTP 422: ${nul}`, httpStatus: 422, code: nul },
        payload: { [nul]: nul },
      };
      const collected = { nodeId: 'out', seq: 1, key: `key ${nul} 2`, data: { v: nul } };
      const commit = commitOf(0, 2)(2);
      await s.runStore.commit(runId, {
        ...commit,
        outcomes: [failed, outcome(1, 'succeeded', `key ${nul} 2`)],
        collected: [collected],
        checkpoint: { ...checkpoint(2), nodeState: { src: { cursor: nul } } },
      });
      await s.runStore.setWaiting(runId, { kind: 'rate', nodeId: 'out', until: Date.now() + 1000 });
      await s.runStore.flush(runId);
      const records = (await s.runs.records(runId, { limit: 10 })).items;
      expect(records.map((r) => r.key)).toEqual([`key ${nul}`, `key ${nul} 2`]);
      expect(records[0]?.error).toEqual({ message: `HTTP 422: ${nul}`, httpStatus: 422, code: nul });
      expect(records[0]?.payload).toEqual({ [nul]: nul });
      expect((await s.runs.records(runId, { key: `key ${nul}`, limit: 5 })).items.map((r) => r.seq)).toEqual([0]);
      expect((await s.runs.errorGroups(runId, 5))[0]?.message).toBe(`HTTP 422: ${nul}`);
      expect((await s.runs.collected(runId, { limit: 5 })).items[0]).toMatchObject({
        key: `key ${nul} 2`,
        data: { v: nul },
      });
      expect((await s.runStore.loadResume(runId))?.checkpoint.nodeState).toEqual({ src: { cursor: nul } });
      await s.runStore.setStatus(runId, { status: 'failed', at: Date.now(), error: `source answered ${nul}` });
      expect((await s.runs.get(runId)).error).toBe(`source answered ${nul}`);
      // and the escape character itself, next to a NUL, reads back as it was
      const flowId = await newFlow();
      const mark = `2026-01-01 \uE000${nul}\uE0000`;
      await s.runs.advanceWatermarks(flowId, runId, { src: mark });
      expect(await s.runs.watermarksOf(flowId)).toEqual({ src: mark });
    });

    it('resumes from the last checkpoint with what is settled past it', async () => {
      const runId = await newRun();
      await s.runStore.commit(runId, commitOf(0, 50)(60));
      // settled past the low-water mark: 55..59 done while 50..54 were still in flight
      const c = commitOf(55, 60)(60);
      await s.runStore.commit(runId, { ...c, checkpoint: checkpoint(50) });
      await s.runStore.flush(runId);
      const resume = await s.runStore.loadResume(runId);
      expect(resume?.checkpoint.lowWater).toBe(50);
      expect([...(resume?.settled ?? [])].sort((a, b) => a - b)).toEqual([55, 56, 57, 58, 59]);
    });

    it('stores a commit with no outcomes: a node state saved between batches, resumed from', async () => {
      const runId = await newRun();
      const first = commitOf(0, 10)(10);
      await s.runStore.commit(runId, first);
      const saved = { ...first.checkpoint, nodeState: { sink: { offset: 1234 } } };
      await s.runStore.commit(runId, { ...first, outcomes: [], checkpoint: saved });
      await s.runStore.flush(runId);
      const resume = await s.runStore.loadResume(runId);
      expect(resume?.checkpoint).toEqual(saved);
      expect(resume?.counts).toEqual(first.counts);
      expect((await s.runs.records(runId, { limit: 100 })).items).toHaveLength(10);
    });

    it('refuses the rest of a run once one of its groups could not be stored: no checkpoint past missing rows', async () => {
      const runId = await newRun();
      await s.runStore.commit(runId, commitOf(0, 10)(10));
      await s.runStore.flush(runId);
      await kind.refuseKey(s, 'k-12');
      try {
        await s.runStore.commit(runId, commitOf(10, 20)(20));
        await s.runStore.flush(runId);
        await expect(async () => s.runStore.commit(runId, commitOf(20, 30)(30))).rejects.toThrow(/could not be stored/);
      } finally {
        await kind.allowKeys(s);
      }
      const resume = await s.runStore.loadResume(runId);
      expect(resume?.checkpoint.lowWater).toBe(10);
      expect((await s.runs.records(runId, { limit: 100 })).items.map((r) => r.seq)).toEqual(
        Array.from({ length: 10 }, (_, i) => i),
      );
      await expect(s.runStore.setStatus(runId, { status: 'succeeded', at: Date.now() })).rejects.toThrow();
      expect((await s.runs.get(runId)).status).toBe('failed');
    });
  });

  it('writes what it was handed when it closes, and refuses anything after', async () => {
    const closing = await kind.open({ leaseOwner: 'thathost/6/contract' });
    const runId = await closing.runs.create({ flowId: null, flowVersionId: null, flowName: 'c', trigger: 'api' });
    await closing.runStore.commit(runId, commitOf(0, 25)(25));
    await closing.close();
    await expect(async () => closing.runStore.commit(runId, commitOf(25, 30)(30))).rejects.toThrow(/closed/);
    expect((await s.runs.records(runId, { limit: 100 })).items).toHaveLength(25);
    expect((await s.runStore.loadResume(runId))?.checkpoint.lowWater).toBe(25);
  });

  describe('leases and fencing', () => {
    it('lets one process hold a run; another takes it over only once the lease expired, with a higher epoch', async () => {
      other = await kind.open({ leaseTtlMs: 400, leaseOwner: 'otherhost/2/contract' });
      const mine = await kind.open({ leaseTtlMs: 400, leaseOwner: 'thathost/3/contract' });
      try {
        const runId = await newRun();
        const first = await mine.leases.claim(runId, ['queued']);
        expect(first).toBeGreaterThan(0);
        expect(await other.leases.claim(runId, ['queued'])).toBeNull();
        expect((await other.leases.candidates(50)).map((c) => c.id)).not.toContain(runId);
        await sleep(600);
        expect((await other.leases.candidates(50)).map((c) => c.id)).toContain(runId);
        const second = await other.leases.claim(runId, ['queued']);
        expect(second).toBe((first ?? 0) + 1);
        expect(await mine.leases.renew([runId])).toEqual([runId]);
        expect(await other.leases.renew([runId])).toEqual([]);
      } finally {
        await mine.close();
      }
    });

    it("refuses every write of a process that lost the run's lease, and says so once", async () => {
      other = await kind.open({ leaseTtlMs: 300, leaseOwner: 'otherhost/4/contract' });
      const mine = await kind.open({ leaseTtlMs: 300, leaseOwner: 'thathost/5/contract' });
      const lost: string[] = [];
      mine.runStore.onLeaseLost = (id) => lost.push(id);
      try {
        const runId = await newRun();
        const epoch = (await mine.leases.claim(runId, ['queued'])) as number;
        mine.runStore.fence(runId, epoch);
        await mine.runStore.setStatus(runId, { status: 'running', at: Date.now() });
        await mine.runStore.commit(runId, commitOf(0, 10)(10));
        await mine.runStore.flush(runId);
        await sleep(450);
        const taken = (await other.leases.claim(runId, ['running'])) as number;
        other.runStore.fence(runId, taken);
        // the zombie wakes up and goes on writing
        const late = async () => {
          await mine.runStore.commit(runId, commitOf(10, 20)(20));
          await mine.runStore.flush(runId);
          await mine.runStore.commit(runId, commitOf(20, 30)(30));
        };
        await expect(late()).rejects.toBeInstanceOf(LeaseLostError);
        await expect(mine.runStore.setWaiting(runId, null)).rejects.toBeInstanceOf(LeaseLostError);
        await expect(mine.runStore.setStatus(runId, { status: 'succeeded', at: Date.now() })).rejects.toBeInstanceOf(
          LeaseLostError,
        );
        expect(lost).toEqual([runId]);
        // nothing of the zombie's is stored; the new holder goes on from the checkpoint
        expect((await s.runs.records(runId, { limit: 100 })).items).toHaveLength(10);
        expect((await other.runStore.loadResume(runId))?.checkpoint.lowWater).toBe(10);
        await other.runStore.commit(runId, commitOf(10, 20)(20));
        await other.runStore.setStatus(runId, { status: 'succeeded', at: Date.now() });
        const run = await s.runs.get(runId);
        expect([run.status, run.counts.read]).toEqual(['succeeded', 20]);
      } finally {
        await mine.close();
      }
    });
  });

  describe('runs of one flow at once', () => {
    it('holds the cap across processes claiming at the same moment', async () => {
      const theirs = await kind.open({ leaseOwner: 'otherhost/8/contract' });
      other = theirs;
      const mine = await kind.open({ leaseOwner: 'thathost/9/contract' });
      try {
        const flowId = await newFlow();
        const runs = await Promise.all(Array.from({ length: 6 }, () => newRun(flowId)));
        const [first, ...rest] = runs as [string, ...string[]];
        expect(await mine.leases.claim(first, ['queued'], 2)).toBe(1);
        // two processes claim the other five at once, cap 2: one more between them, not two
        const taken = await Promise.all(
          rest.map(async (id) => {
            const [a, b] = await Promise.all([
              mine.leases.claim(id, ['queued'], 2),
              theirs.leases.claim(id, ['queued'], 2),
            ]);
            return a !== null || b !== null;
          }),
        );
        expect(taken.filter(Boolean)).toHaveLength(1);
        const waiting = rest.filter((_, i) => !taken[i]);
        expect(await theirs.leases.claim(waiting[0] as string, ['queued'], 2)).toBeNull();
        // a run that ended frees its place; runs of another flow, and claims without a cap, are not held back
        await mine.leases.release(first);
        expect(await s.runs.cancelQueued(first)).toBe(true);
        expect(await theirs.leases.claim(waiting[0] as string, ['queued'], 2)).not.toBeNull();
        expect(await theirs.leases.claim(waiting[1] as string, ['queued'], 2)).toBeNull();
        expect(await theirs.leases.claim(await newRun(await newFlow()), ['queued'], 2)).not.toBeNull();
        expect(await mine.leases.claim(waiting[1] as string, ['queued'])).not.toBeNull();
      } finally {
        await mine.close();
      }
    });
  });

  describe('controls across processes', () => {
    it('records who executes a run and how often it was taken up; hands a control to the holder alone, once', async () => {
      other = await kind.open({ leaseTtlMs: 400, leaseOwner: 'otherhost/6/contract' });
      const mine = await kind.open({ leaseTtlMs: 400, leaseOwner: 'thathost/7/contract' });
      try {
        const runId = await newRun();
        expect((await s.runs.get(runId)).executor).toBeNull();
        expect((await s.runs.get(runId)).claims).toBe(0);
        const epoch = (await mine.leases.claim(runId, ['queued'])) as number;
        mine.runStore.fence(runId, epoch);
        await mine.runStore.setStatus(runId, { status: 'running', at: Date.now() });
        expect(await s.runs.get(runId)).toMatchObject({ executor: 'thathost/7/contract', claims: 1 });

        // asked by a process that does not hold it; a status it is not in is refused
        expect(await other.leases.requestControl(runId, 'resume', ['paused'])).toBe(false);
        expect(await other.leases.requestControl(runId, 'pause', ['running'])).toBe(true);
        expect(await other.leases.takeControls([runId])).toEqual([]);
        expect(await mine.leases.takeControls([runId])).toEqual([{ runId, verb: 'pause' }]);
        expect(await mine.leases.takeControls([runId])).toEqual([]);
        // a later ask replaces one not yet taken up
        await other.leases.requestControl(runId, 'pause', ['running']);
        await other.leases.requestControl(runId, 'cancel', ['running']);
        expect(await mine.leases.takeControls([runId, '999999', 'x'])).toEqual([{ runId, verb: 'cancel' }]);

        // the holder dies: what was asked meanwhile waits on the run for the next holder
        await other.leases.requestControl(runId, 'pause', ['running']);
        await sleep(600);
        expect(await other.leases.claim(runId, ['running'])).toBe(epoch + 1);
        expect(await mine.leases.takeControls([runId])).toEqual([]);
        expect(await other.leases.takeControls([runId])).toEqual([{ runId, verb: 'pause' }]);
        await other.leases.release(runId);
        // the executor stays recorded once the lease is released
        expect(await s.runs.get(runId)).toMatchObject({ executor: 'otherhost/6/contract', claims: 2 });
        expect((await s.runs.list({ limit: 100 })).items.find((r) => r.id === runId)).toMatchObject({ claims: 2 });
      } finally {
        await mine.close();
      }
    });
  });

  describe('schedule slots', () => {
    it('lets exactly one of several processes advance a slot', async () => {
      const flowId = await newFlow();
      const armed = await s.slots.arm(flowId, 'every', 1, 5_000);
      expect(armed).toMatchObject({ lastSlot: null, version: 1, updatedAt: 5_000 });
      const wins = await Promise.all(
        Array.from({ length: 6 }, () => s.slots.advance(flowId, 'every', null, 60_000, null)),
      );
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect(await s.slots.advance(flowId, 'every', 60_000, 120_000, '7')).toBe(true);
      expect(await s.slots.get(flowId, 'every')).toMatchObject({ lastSlot: 120_000, lastRunId: '7', version: 1 });
      // armed again for a new version: from now on
      expect(await s.slots.arm(flowId, 'every', 2, 9_000)).toMatchObject({ version: 2, updatedAt: 9_000 });
      expect(await s.slots.arm(flowId, 'every', 2, 10_000)).toMatchObject({ version: 2, updatedAt: 9_000 });
    });

    it('counts slots from when a flow is turned on again, even if a tick armed its schedule while it was off', async () => {
      const flowId = await newFlow();
      await s.slots.arm(flowId, 'every', 1, 1_000);
      expect(await s.slots.advance(flowId, 'every', null, 60_000, null)).toBe(true);
      await s.flows.set(flowId, { enabled: false }, 70_000);
      expect((await s.slots.get(flowId, 'every'))?.version).toBeNull();
      // a tick that read the flow as on just before it went off arms it again
      expect(await s.slots.arm(flowId, 'every', 1, 71_000)).toMatchObject({ version: 1, updatedAt: 71_000 });
      // on again an hour later: armed from then, so the hour it was off is not caught up
      await s.flows.set(flowId, { enabled: true }, 3_671_000);
      expect(await s.slots.arm(flowId, 'every', 1, 3_672_000)).toMatchObject({ version: 1, updatedAt: 3_672_000 });
      // turning on a flow that is on leaves its schedules as they are
      await s.flows.set(flowId, { enabled: true }, 3_700_000);
      expect(await s.slots.arm(flowId, 'every', 1, 3_701_000)).toMatchObject({ updatedAt: 3_672_000 });
    });
  });

  describe('watermarks', () => {
    it('only move forward', async () => {
      const flowId = await newFlow();
      const a = await newRun(flowId);
      const b = await newRun(flowId);
      await s.runs.advanceWatermarks(flowId, a, { src: '2026-01-05T00:00:00Z', other: '10' });
      await s.runs.advanceWatermarks(flowId, b, { src: '2026-01-03T00:00:00Z', other: '12' });
      expect(await s.runs.watermarksOf(flowId)).toEqual({ src: '2026-01-05T00:00:00Z', other: '12' });
      expect((await s.runs.listWatermarks(flowId)).map((w) => [w.nodeId, w.runId])).toEqual([
        ['other', b],
        ['src', a],
      ]);
    });
  });

  describe('retention', () => {
    it('prunes the records of old runs beyond the newest of their flow, keeping their summaries', async () => {
      const flowId = await newFlow();
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const id = await newRun(flowId);
        await s.runStore.commit(id, commitOf(0, 20)(20));
        await s.runStore.setStatus(id, { status: 'succeeded', at: Date.now(), counts: commitOf(0, 20)(20).counts });
        ids.push(id);
      }
      const result = await s.retention.prune({ days: 0, runsPerFlow: 2 }, Date.now() + 1000);
      expect(result.runs).toBeGreaterThanOrEqual(2);
      for (const [i, id] of ids.entries()) {
        const run = await s.runs.get(id);
        expect(run.counts.read).toBe(20);
        const records = await s.runs.records(id, { limit: 50 });
        expect([run.prunedAt !== null, records.items.length]).toEqual(i < 2 ? [true, 0] : [false, 20]);
      }
    });
  });

  describe('tokens, connections, hooks', () => {
    it('keeps tokens by hash', async () => {
      const id = await s.tokens.insert({ name: 'ci', prefix: 'slc_abcd', hash: 'ab'.repeat(32), createdAt: 1000 });
      expect(await s.tokens.findByHash('ab'.repeat(32))).toMatchObject({ id, name: 'ci', lastUsedAt: null });
      await s.tokens.touch(id, 2000);
      expect((await s.tokens.list()).find((t) => t.id === id)?.lastUsedAt).toBe(2000);
      const before = await s.tokens.count();
      expect(await s.tokens.delete(id)).toBe(true);
      expect(await s.tokens.delete(id)).toBe(false);
      expect(await s.tokens.count()).toBe(before - 1);
    });

    it('keeps connections by name and refuses a taken name', async () => {
      const row = {
        name: `erp-${Math.random().toString(36).slice(2, 6)}`,
        baseUrl: 'http://127.0.0.1:1/erp',
        auth: 'bearer' as const,
        username: null,
        headerName: null,
        secret: 'sealed',
        checkPath: null,
        breakerThreshold: 3,
        breakerCooldownMs: 1000,
        limitMaxConcurrent: 4,
        limitMaxPerSecond: 12.5,
        limitAdaptive: true,
      };
      await s.connections.insert(row, 1000);
      await expect(s.connections.insert(row, 1000)).rejects.toMatchObject({ code: 'exists', path: 'name' });
      await s.connections.update({ ...row, baseUrl: 'http://127.0.0.1:2/erp' }, 2000);
      await s.connections.setStatus(row.name, 'ok', null, 3000);
      expect(await s.connections.find(row.name)).toMatchObject({
        baseUrl: 'http://127.0.0.1:2/erp',
        limitMaxConcurrent: 4,
        limitMaxPerSecond: 12.5,
        limitAdaptive: true,
        lastStatus: 'ok',
        lastCheckedAt: 3000,
      });
      expect(await s.connections.delete(row.name)).toBe(true);
      expect(await s.connections.find(row.name)).toBeUndefined();
    });

    it('keeps hooks', async () => {
      const flowId = await newFlow();
      await s.hooks.insert({ id: `hk_${flowId}`, flowId, nodeId: 'hook', secret: 'sealed-1', createdAt: 1 });
      await s.hooks.setSecret(`hk_${flowId}`, 'sealed-2');
      expect(await s.hooks.find(flowId, 'hook')).toMatchObject({ id: `hk_${flowId}`, secret: 'sealed-2' });
      expect(await s.hooks.get(`hk_${flowId}`)).toMatchObject({ flowId, nodeId: 'hook' });
    });
  });
});
