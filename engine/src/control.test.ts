import { describe, expect, it } from 'vitest';
import type { HttpResponse } from './ports.js';
import { startRun } from './run.js';
import {
  chain,
  dieAndResume,
  fakeConnectors,
  flowOf,
  json,
  MemoryRunStore,
  SimulatedClock,
  testRuntime,
} from './testing/index.js';

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `r${i}`, n: i }));

/** trigger → inline source → batch → delay (params) → write (params). */
function writeFlow(n: number, size: number, delay: Record<string, unknown>, write: Record<string, unknown> = {}) {
  return flowOf(
    [
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records', params: { records: records(n), keyField: 'key' } },
      { id: 'batch', type: 'batch', params: { size } },
      { id: 'wait', type: 'delay', params: delay },
      { id: 'write', type: 'http-write', params: { connection: 'erp', url: '/orders', ...write } },
    ],
    chain('start', 'src', 'batch', 'wait', 'write'),
  );
}

const erp = (breaker?: { failureThreshold: number; cooldownMs: number }) => ({
  erp: { name: 'erp', baseUrl: 'http://erp.test', headers: {}, ...(breaker ? { breaker } : {}) },
});

describe('rate mode', () => {
  it('lets at most N records through in any window of the interval, not one every interval/N', async () => {
    const clock = new SimulatedClock(0);
    const sent: number[] = [];
    const connectors = fakeConnectors(() => {
      sent.push(clock.now());
      return json(201, {});
    }, erp());
    const store = new MemoryRunStore();
    const flow = writeFlow(25, 4, { mode: 'rate', records: 10, intervalMs: 1000 });
    const result = await clock.run(startRun({ runId: 'r', flow, clock, runtime: testRuntime, store, connectors }).done);
    expect(result.counts.succeeded).toBe(25);
    // 10 at once, 10 a second later, 5 a second after that
    expect(sent.filter((t) => t === 0)).toHaveLength(10);
    expect(sent.filter((t) => t === 1000)).toHaveLength(10);
    expect(sent.filter((t) => t === 2000)).toHaveLength(5);
    for (const t of sent) expect(sent.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(10);
  });
});

describe('write concurrency', () => {
  it('writes K records at once and still stores outcomes in record order', async () => {
    const clock = new SimulatedClock(0);
    let inFlight = 0;
    let most = 0;
    const connectors = fakeConnectors(async (_req, body) => {
      inFlight++;
      most = Math.max(most, inFlight);
      const n = (body as { n: number }).n;
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 100 + ((n * 37) % 5) * 50));
      inFlight--;
      return n === 4 ? json(422, { message: 'no' }) : json(201, {});
    }, erp());
    const store = new MemoryRunStore();
    const flow = writeFlow(10, 10, { ms: 0 }, { concurrency: 3 });
    const result = await clock.run(startRun({ runId: 'r', flow, clock, runtime: testRuntime, store, connectors }).done);
    expect(most).toBe(3);
    expect(result.counts).toMatchObject({ succeeded: 9, failed: 1 });
    expect(store.outcomes.map((o) => o.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(clock.now()).toBeLessThan(10 * 100);
  });
});

describe('circuit breaker', () => {
  it('opens after N consecutive failures; records wait (and say so) instead of failing, then all go through', async () => {
    const clock = new SimulatedClock(0);
    const sent: { at: number; status: number }[] = [];
    const connectors = fakeConnectors(
      () => {
        const status = clock.now() < 25_000 ? 503 : 201;
        sent.push({ at: clock.now(), status });
        return json(status, {});
      },
      erp({ failureThreshold: 3, cooldownMs: 10_000 }),
    );
    const store = new MemoryRunStore();
    const flow = writeFlow(5, 5, { ms: 0 }, { retry: { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1000 } });
    const result = await clock.run(
      startRun({ runId: 'r', flow, clock, runtime: testRuntime, store, connectors, random: () => 0 }).done,
    );
    expect(result.counts).toMatchObject({ succeeded: 5, failed: 0 });
    const failures = sent.filter((s) => s.status === 503);
    // three failures open it; then one probe per cooldown while the ERP is still down
    expect(failures.map((f) => f.at)).toEqual([0, 50, 150, 10_150, 20_150]);
    expect(sent.filter((s) => s.status === 201).map((s) => s.at)).toEqual([30_150, 30_150, 30_150, 30_150, 30_150]);
    expect(store.waits).toContainEqual(expect.objectContaining({ kind: 'breaker', connection: 'erp', until: 10_150 }));
    expect(store.waits.at(-1)).toBeNull();
  });

  it('is shared by every run using the connection', async () => {
    const { BreakerRegistry } = await import('./breaker.js');
    const clock = new SimulatedClock(0);
    const breakers = new BreakerRegistry(clock);
    const down = fakeConnectors(() => json(500, {}), erp({ failureThreshold: 2, cooldownMs: 5000 }));
    const store = new MemoryRunStore();
    const a = startRun({
      runId: 'a',
      flow: writeFlow(1, 1, { ms: 0 }, { retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 10 } }),
      clock,
      runtime: testRuntime,
      store,
      connectors: down,
      breakers,
      random: () => 0,
    });
    await clock.advance(20);
    expect(breakers.get('erp').state).toBe('open');
    a.cancel();
    await clock.run(a.done);
    const sent: number[] = [];
    const up = fakeConnectors(() => {
      sent.push(clock.now());
      return json(201, {});
    }, erp());
    const b = startRun({
      runId: 'b',
      flow: writeFlow(1, 1, { ms: 0 }),
      clock,
      runtime: testRuntime,
      store,
      connectors: up,
      breakers,
    });
    await clock.run(b.done);
    expect(sent).toEqual([5005]);
  });
});

describe('pause and resume', () => {
  it('stops at the next record boundary, sends nothing while paused, and goes on when resumed', async () => {
    const clock = new SimulatedClock(0);
    const sent: number[] = [];
    const connectors = fakeConnectors(async () => {
      sent.push(clock.now());
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 10));
      return json(201, {});
    }, erp());
    const store = new MemoryRunStore();
    const run = startRun({
      runId: 'r',
      flow: writeFlow(6, 3, { ms: 100 }),
      clock,
      runtime: testRuntime,
      store,
      connectors,
    });
    await clock.advance(15);
    run.pause();
    expect(run.status()).toBe('paused');
    await clock.advance(60_000);
    expect(sent).toEqual([0, 10]); // the request in flight at the pause finished; nothing after
    run.resume();
    const result = await clock.run(run.done);
    expect(result.status).toBe('succeeded');
    expect(sent).toHaveLength(6);
    expect(sent[2]).toBe(60_015);
    expect(store.statuses.map((s) => s.status)).toEqual(['queued', 'running', 'paused', 'running', 'succeeded']);
  });

  it('cancels a paused run', async () => {
    const clock = new SimulatedClock(0);
    const connectors = fakeConnectors(() => json(201, {}), erp());
    const store = new MemoryRunStore();
    const run = startRun({
      runId: 'r',
      flow: writeFlow(6, 3, { ms: 100 }),
      clock,
      runtime: testRuntime,
      store,
      connectors,
      paused: true,
    });
    await clock.advance(1000);
    expect(run.status()).toBe('paused');
    run.cancel();
    const result = await clock.run(run.done);
    expect(result.status).toBe('cancelled');
    expect(result.counts.read).toBe(result.counts.cancelled + result.counts.succeeded);
  });
});

describe('resume after the process died', () => {
  it('goes on from the last checkpoint: nothing lost, nothing settled twice, a pending delay only for what remains', async () => {
    const ms = 5000;
    const flow = writeFlow(10, 3, { ms });
    const written = new Map<string, number>();
    const byKey = new Map<string, HttpResponse>();
    const handler = (req: { headers: Record<string, string> }, body: unknown): HttpResponse => {
      const key = req.headers['Idempotency-Key'] as string;
      const seen = byKey.get(key);
      if (seen) return seen;
      const k = (body as { key: string }).key;
      written.set(k, (written.get(k) ?? 0) + 1);
      const answer = json(201, {});
      byKey.set(key, answer);
      return answer;
    };

    // first life: the process dies (its commits stop landing) after the second batch
    const clock1 = new SimulatedClock(0);
    const store1 = new MemoryRunStore();
    let commits = 0;
    const dying = {
      ...store1,
      commit: (id: string, c: Parameters<MemoryRunStore['commit']>[1]) => {
        if (++commits > 2) return new Promise<void>(() => {});
        store1.commit(id, c);
      },
      setStatus: (id: string, u: Parameters<MemoryRunStore['setStatus']>[1]) => store1.setStatus(id, u),
      setWaiting: () => {},
    };
    startRun({
      runId: 'r',
      flow,
      clock: clock1,
      runtime: testRuntime,
      store: dying,
      connectors: fakeConnectors(handler, erp()),
    });
    await clock1.advance(ms + 10);
    await clock1.advance(ms + 10);
    const checkpoint = store1.lastCheckpoint!;
    expect(checkpoint.lowWater).toBe(6);
    expect(store1.outcomes.map((o) => o.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(written.get('r6')).toBe(1); // batch 3 was written, but its outcomes never landed

    // second life, 2 s after batch 2 finished: the delay owes 3 s more, not 5
    const last = store1.commits.at(-1)!;
    const clock2 = new SimulatedClock((checkpoint.lastBatchEnd ?? 0) + 2000);
    const sentAt: number[] = [];
    const store2 = new MemoryRunStore();
    const connectors2 = fakeConnectors((req, body) => {
      sentAt.push(clock2.now());
      return handler(req, body);
    }, erp());
    const result = await clock2.run(
      startRun({
        runId: 'r',
        flow,
        clock: clock2,
        runtime: testRuntime,
        store: store2,
        connectors: connectors2,
        resume: { checkpoint, counts: last.counts, nodeCounts: last.nodeCounts, settled: new Set() },
      }).done,
    );
    expect(result.status).toBe('succeeded');
    expect(sentAt[0]).toBe((checkpoint.lastBatchEnd ?? 0) + ms);
    const all = [...store1.outcomes, ...store2.outcomes].map((o) => o.seq).sort((a, b) => a - b);
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(result.counts).toEqual({ read: 10, succeeded: 10, filtered: 0, failed: 0, cancelled: 0 });
    expect(result.nodeCounts.write).toEqual({ in: 10, out: 10, error: 0, filtered: 0 });
    expect([...written.values()].every((n) => n === 1)).toBe(true);
    expect(store2.batches.map((b) => b.batchNo)).toEqual([3, 4]);
  });

  /**
   * Flows where a source reads everything while a batch node still holds some of its records (it
   * lets them go only when the run finishes), and a commit lands meanwhile (another batch's).
   */
  const N = 20;
  const src = { id: 'src', type: 'generate', params: { count: N, pageSize: 5 } };
  const held = {
    'two edges from the source, one into a batch larger than the source': flowOf(
      [
        { id: 'start', type: 'manual' },
        src,
        { id: 'small', type: 'batch', params: { size: 3 } },
        { id: 'big', type: 'batch', params: { size: 50 } },
        { id: 'a', type: 'collect' },
        { id: 'b', type: 'collect' },
      ],
      [...chain('start', 'src', 'small', 'a'), ...chain('src', 'big', 'b')],
    ),
    'a branch node with a batch on each port': flowOf(
      [
        { id: 'start', type: 'manual' },
        src,
        { id: 'split', type: 'branch', params: { condition: 'index % 2 = 0' } },
        { id: 'small', type: 'batch', params: { size: 3 } },
        { id: 'big', type: 'batch', params: { size: 50 } },
        { id: 'wait', type: 'delay', params: { ms: 100 } },
        { id: 'a', type: 'collect' },
        { id: 'b', type: 'collect' },
      ],
      [...chain('start', 'src', 'split:true', 'small', 'a'), ...chain('split:false', 'big', 'wait', 'b')],
    ),
    'one chain whose second batch holds the tail': flowOf([
      { id: 'start', type: 'manual' },
      src,
      { id: 'small', type: 'batch', params: { size: 3 } },
      { id: 'big', type: 'batch', params: { size: 8 } },
      { id: 'wait', type: 'delay', params: { ms: 100 } },
      { id: 'a', type: 'collect' },
    ]),
    'one chain whose only batch holds the tail': flowOf([
      { id: 'start', type: 'manual' },
      src,
      { id: 'big', type: 'batch', params: { size: 8 } },
      { id: 'wait', type: 'delay', params: { ms: 100 } },
      { id: 'a', type: 'collect' },
    ]),
    'a second source read while a batch holds the records of the first': flowOf(
      [
        { id: 'start', type: 'manual' },
        { id: 'src', type: 'generate', params: { count: N - 6, pageSize: 4 } },
        {
          id: 'other',
          type: 'inline-records',
          params: { records: Array.from({ length: 6 }, (_, i) => ({ k: `o${i}` })), keyField: 'k' },
        },
        { id: 'big', type: 'batch', params: { size: 50 } },
        { id: 'a', type: 'collect' },
        { id: 'b', type: 'collect' },
      ],
      [...chain('start', 'src', 'big', 'a'), ...chain('start', 'other', 'b')],
    ),
  };
  /** Past the last record each source reads (the generated one reads first). */
  const ends = (flow: (typeof held)[keyof typeof held]): Record<string, number> =>
    flow.nodes.some((n) => n.id === 'other') ? { src: N - 6, other: N } : { src: N };

  it.each(Object.entries(held))(
    'settles every record once when it dies after any commit, a batch still holding records of a finished source: %s',
    async (_, flow) => {
      const commits = (
        await dieAndResume(
          flow,
          Number.POSITIVE_INFINITY,
          fakeConnectors(() => json(500, {})),
        )
      ).first.commits.length;
      expect(commits).toBeGreaterThanOrEqual(2);
      for (let after = 0; after <= commits; after++) {
        const { result, first, outcomes } = await dieAndResume(
          flow,
          after,
          fakeConnectors(() => json(500, {})),
        );
        const why = `died after commit ${after}`;
        expect(result.status, why).toBe('succeeded');
        expect(
          outcomes.map((o) => o.seq).sort((a, b) => a - b),
          why,
        ).toEqual(Array.from({ length: N }, (_, i) => i));
        expect(new Set(outcomes.map((o) => o.key)).size, why).toBe(N);
        const { read, succeeded, filtered, failed, cancelled } = result.counts;
        expect(read, why).toBe(N);
        expect(succeeded + filtered + failed + cancelled, why).toBe(N);
        // a checkpoint records a source as done only once everything it read is settled and stored
        for (const { checkpoint } of first.commits) {
          for (const id of checkpoint.sourcesDone)
            expect(checkpoint.lowWater, why).toBeGreaterThanOrEqual(ends(flow)[id] ?? N);
        }
      }
    },
  );
});

describe('retry failed records', () => {
  it('feeds only the failed records into the nodes where they failed, in order', async () => {
    const clock = new SimulatedClock(0);
    const flow = writeFlow(4, 2, { ms: 1000 });
    const sent: string[] = [];
    const connectors = fakeConnectors((_req, body) => {
      sent.push((body as { key: string }).key);
      return json(201, {});
    }, erp());
    const store = new MemoryRunStore();
    const replay = {
      read: (after: number) =>
        after < 7
          ? [
              { ref: 3, key: 'r3', nodeId: 'write', payload: { key: 'r3', n: 3 } },
              { ref: 7, key: 'gone', nodeId: 'removed-node', payload: { key: 'gone' } },
            ]
          : [],
    };
    const result = await clock.run(
      startRun({ runId: 'retry', flow, clock, runtime: testRuntime, store, connectors, replay }).done,
    );
    expect(sent).toEqual(['r3']);
    expect(result.counts).toEqual({ read: 2, succeeded: 1, filtered: 0, failed: 1, cancelled: 0 });
    expect(store.byStatus('failed')[0]?.error?.message).toMatch(/node "removed-node" is not in this flow version/);
    expect(clock.now()).toBe(0);
  });
});

describe('records in flight', () => {
  it('never exceed settings.maxInFlight, whatever the page size', async () => {
    const flow = flowOf(
      [
        { id: 'start', type: 'manual' },
        { id: 'gen', type: 'generate', params: { count: 500, pageSize: 500 } },
        { id: 'batch', type: 'batch', params: { size: 5 } },
        { id: 'keep', type: 'filter', params: { condition: 'index % 3 != 0' } },
      ],
      undefined,
      { settings: { maxInFlight: 12 } },
    );
    const clock = new SimulatedClock(0);
    const store = new MemoryRunStore();
    const run = await clock.run(
      startRun({
        runId: 'r',
        flow,
        clock,
        runtime: testRuntime,
        store,
        connectors: fakeConnectors(() => json(500, {})),
      }).done,
    );
    expect(run.counts.read).toBe(500);
    const inFlight = store.commits.map(
      (c) => c.counts.read - (c.counts.succeeded + c.counts.filtered + c.counts.failed),
    );
    expect(Math.max(...inFlight)).toBeLessThanOrEqual(12);
    expect(store.commits.length).toBeGreaterThan(50);
  });
});
