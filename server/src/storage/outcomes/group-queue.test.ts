import type { RecordOutcome, RunCommit } from '@sluice/engine';
import { describe, expect, it } from 'vitest';
import { GroupQueue, type GroupQueueOptions, writerLag } from './group-queue.js';
import type { WriteGroup } from './write-group.js';

/** The grouping queue with a transport the test answers by hand. */

const stored: GroupQueueOptions['stored'] = {
  payload: (p) => JSON.stringify(p),
  output: (o) => JSON.stringify(o),
};

const ok = (seq: number): RecordOutcome => ({
  seq,
  key: `k-${seq}`,
  status: 'succeeded',
  nodeId: 'out',
  batchNo: 1,
  attempts: 1,
  at: 1,
});

const commitOf = (seqs: number[]): RunCommit => ({
  outcomes: seqs.map(ok),
  collected: [],
  counts: { read: seqs.length, succeeded: seqs.length, filtered: 0, failed: 0, cancelled: 0 },
  nodeCounts: {},
  checkpoint: { version: 1, lowWater: 0, nextBatch: 1, sourcesDone: [], nodeState: {}, breakers: {} },
});

/** A transport whose writes stay pending until the test settles them. */
function manual() {
  const calls: { runId: string; group: WriteGroup; resolve: () => void; reject: (err: Error) => void }[] = [];
  const send = (group: WriteGroup, runId: string) =>
    new Promise<void>((resolve, reject) => calls.push({ runId, group, resolve, reject }));
  return { calls, send };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupQueue', () => {
  it('sends a run’s groups one after the other, different runs’ at once', async () => {
    const t = manual();
    const q = new GroupQueue({ send: t.send, stored });
    q.commit('1', commitOf([0]));
    void q.flush('1');
    q.commit('1', commitOf([1]));
    void q.flush('1');
    q.commit('2', commitOf([0]));
    const all = q.flush();
    await tick();
    expect(t.calls.map((c) => c.runId)).toEqual(['1', '2']); // run 1's second waits for its first
    t.calls[0]?.resolve();
    await tick();
    expect(t.calls.map((c) => c.runId)).toEqual(['1', '2', '1']);
    expect(t.calls[2]?.group.rows[0]).toBe(1);
    for (const c of t.calls.slice(1)) c.resolve();
    await all;
    expect(q.inFlight).toBe(0);
  });

  it('refuses a run’s later groups once one failed, and its next commit, until forgotten', async () => {
    const t = manual();
    const failures: string[] = [];
    const q = new GroupQueue({ send: t.send, stored, onFailure: (runId) => failures.push(runId) });
    q.commit('1', commitOf([0]));
    void q.flush('1');
    q.commit('1', commitOf([1]));
    const flushed = q.flush('1');
    await tick();
    t.calls[0]?.reject(new Error('disk full'));
    await flushed;
    expect(t.calls).toHaveLength(1); // the second group was never sent
    expect(failures).toEqual(['1']);
    expect(() => q.commit('1', commitOf([2]))).toThrow("the run's records could not be stored: disk full");
    q.forget('1');
    q.commit('1', commitOf([2]));
    const again = q.flush('1');
    await tick();
    t.calls[1]?.resolve();
    await again;
    expect(t.calls).toHaveLength(2);
  });

  it('takes a transport that throws instead of rejecting as a failed write', async () => {
    const q = new GroupQueue({
      stored,
      ordered: true,
      send: () => {
        throw new Error('the writer thread does not start');
      },
    });
    q.commit('1', commitOf([0]));
    await q.flush('1');
    expect(() => q.commit('1', commitOf([1]))).toThrow(/could not be stored: the writer thread does not start/);
  });

  it('hands every group over at once to a transport that keeps the order itself', async () => {
    const t = manual();
    const q = new GroupQueue({ send: t.send, stored, ordered: true });
    q.commit('1', commitOf([0]));
    void q.flush('1');
    q.commit('1', commitOf([1]));
    const flushed = q.flush('1');
    expect(t.calls).toHaveLength(2);
    for (const c of t.calls) c.resolve();
    await flushed;
  });

  it('makes a commit wait while too much is in flight, and refuses commits once closed', async () => {
    const t = manual();
    const q = new GroupQueue({ send: t.send, stored });
    let waiting: Promise<void> | undefined;
    for (let i = 0; i < 5 && !waiting; i++) {
      const r = q.commit(String(i), commitOf(Array.from({ length: 2000 }, (_, s) => s)));
      if (r instanceof Promise) waiting = r;
    }
    expect(waiting).toBeInstanceOf(Promise);
    await tick();
    for (const c of t.calls) c.resolve();
    await waiting;
    const closing = q.close();
    await tick();
    for (const c of t.calls.slice(5)) c.resolve();
    await closing;
    expect(() => q.commit('1', commitOf([0]))).toThrow(/the run store is closed/);
  });

  it('tells its lag: rows gathering and sent, groups not yet written and the age of the oldest', async () => {
    const t = manual();
    const q = new GroupQueue({ send: t.send, stored });
    expect(q.lag()).toEqual({ rows: 0, bytes: 0, groups: 0, oldestMs: null });
    q.commit('1', commitOf([0, 1, 2]));
    const gathering = q.lag();
    expect(gathering).toMatchObject({ rows: 3, groups: 0, oldestMs: null });
    expect(gathering.bytes).toBeGreaterThan(0);
    const flushed = q.flush('1');
    q.commit('2', commitOf([0]));
    await tick();
    expect(q.lag()).toMatchObject({ rows: 4, groups: 1, oldestMs: expect.any(Number) });
    t.calls[0]?.resolve();
    await flushed;
    expect(q.lag()).toMatchObject({ rows: 1, groups: 0, oldestMs: null });
  });

  it('measures the age of the oldest group not yet written', () => {
    const lag = writerLag(
      [{ at: 1_000 }, { at: 400 }, { at: 900 }],
      [{ group: { size: 7, bytes: 70 } }],
      10,
      100,
      1_500,
    );
    expect(lag).toEqual({ rows: 17, bytes: 170, groups: 3, oldestMs: 1_100 });
  });
});
