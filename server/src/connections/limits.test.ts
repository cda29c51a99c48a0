import { type Permit, startRun } from '@sluice/engine';
import {
  chain,
  fakeConnectors,
  flowOf,
  json,
  MemoryRunStore,
  SimulatedClock,
  testRuntime,
} from '@sluice/engine/testing';
import { describe, expect, it } from 'vitest';
import { type LimitsClock, LocalLimits } from './limits.js';
import { limitsClock } from './testing.js';

const later = (clock: SimulatedClock, ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));

describe('LocalLimits', () => {
  it('paces permits evenly: 60 from 3 runs at 20 per second, never more than 21 starting in a second', async () => {
    const clock = new SimulatedClock(0);
    const limits = new LocalLimits(limitsClock(clock), 1);
    const starts: number[] = [];
    const run = async (holdMs: number) => {
      for (let i = 0; i < 20; i++) {
        const permit = await limits.acquire('erp', { maxPerSecond: 20 });
        starts.push(clock.now());
        await later(clock, holdMs);
        permit.release();
      }
    };
    await clock.run(Promise.all([run(5), run(30), run(120)]));
    expect(starts).toHaveLength(60);
    for (const t of starts) expect(starts.filter((u) => u >= t && u <= t + 1000).length).toBeLessThanOrEqual(21);
    // never closer than 50 ms, the first three at once in turn
    const sorted = [...starts].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThanOrEqual(50);
    expect(sorted.slice(0, 3)).toEqual([0, 50, 100]);
    expect(limits.held('erp')).toBe(0);
  });

  it('paces at 90% of maxPerSecond by default: requests a tenth of a second late on the way still arrive at most 21 in a second', async () => {
    const clock = new SimulatedClock(0);
    const limits = new LocalLimits(limitsClock(clock));
    const starts: number[] = [];
    await clock.run(
      (async () => {
        for (let i = 0; i < 60; i++) {
          (await limits.acquire('erp', { maxPerSecond: 20 })).release();
          starts.push(clock.now());
        }
      })(),
    );
    expect(starts[1]).toBeCloseTo(1000 / 18, 6);
    // the worst case for a target counting arrivals: two requests late by 99 ms, the ones after them on time
    const late = (t: number, i: number) => (i === 20 || i === 21 ? t + 99 : t);
    const most = (at: number[]) => Math.max(...at.map((t) => at.filter((u) => u >= t && u < t + 1000).length));
    expect(most(starts.map(late))).toBeLessThanOrEqual(21);
    // paced at exactly the maximum, the same delays put 22 in a second
    expect(most(Array.from({ length: 60 }, (_, i) => late(i * 50, i)))).toBe(22);
  });

  it('lets a connection idle for a while start at once again, without a burst', async () => {
    const clock = new SimulatedClock(0);
    const limits = new LocalLimits(limitsClock(clock), 1);
    const take = async () => {
      const permit = await limits.acquire('erp', { maxPerSecond: 4 });
      permit.release();
      return { at: clock.now(), waited: permit.waitedMs };
    };
    expect(await clock.run(Promise.all([take(), take(), take()]))).toEqual([
      { at: 0, waited: 0 },
      { at: 250, waited: 250 },
      { at: 500, waited: 500 },
    ]);
    await clock.advance(10_000);
    expect(await clock.run(Promise.all([take(), take()]))).toEqual([
      { at: 10_500, waited: 0 },
      { at: 10_750, waited: 250 },
    ]);
  });

  it('sends no burst after a stall: a caller woken late lets its slot go and takes the next free one', async () => {
    const clock = new SimulatedClock(0);
    const onTime = limitsClock(clock);
    // the process busy from 100 to 400 ms: a sleep that should end then ends at 400
    const stalled: LimitsClock = {
      now: onTime.now,
      sleep: (ms, signal) => {
        const end = clock.now() + ms;
        return onTime.sleep(end >= 100 && end < 400 ? 400 - clock.now() : ms, signal);
      },
    };
    const limits = new LocalLimits(stalled, 1);
    const starts: number[] = [];
    const take = async () => {
      (await limits.acquire('erp', { maxPerSecond: 20 })).release();
      starts.push(clock.now());
    };
    await clock.run(Promise.all(Array.from({ length: 12 }, take)));
    // before the stall on their slots; after it, the six whose slots passed meanwhile spaced again
    expect(starts).toEqual([0, 50, 400, 450, 500, 550, 600, 650, 700, 750, 800, 850]);
  });

  it('gives at most maxConcurrent places at once, first come first served, and says a caller waits', async () => {
    const clock = new SimulatedClock(0);
    const limits = new LocalLimits(limitsClock(clock), 1);
    const order: string[] = [];
    const waits: (number | null)[] = [];
    const permits: Permit[] = [];
    const take = (name: string) =>
      limits
        .acquire('erp', { maxConcurrent: 2 }, undefined, (until) => waits.push(until))
        .then((p) => {
          order.push(name);
          permits.push(p);
        });
    const all = Promise.all(['a', 'b', 'c', 'd'].map(take));
    await clock.advance(0);
    expect(order).toEqual(['a', 'b']);
    expect(waits).toEqual([null, null]);
    expect(limits.held('erp')).toBe(2);
    await clock.advance(300);
    permits[0]!.release();
    permits[0]!.release(); // a second release gives nothing back
    await clock.advance(0);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(limits.held('erp')).toBe(2);
    permits[1]!.release();
    await all;
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    expect(permits[2]!.waitedMs).toBe(300);
    for (const p of permits) p.release();
    expect(limits.held('erp')).toBe(0);
  });

  it('keeps each connection apart', async () => {
    const clock = new SimulatedClock(0);
    const limits = new LocalLimits(limitsClock(clock), 1);
    const a = await limits.acquire('erp', { maxConcurrent: 1 });
    const b = await limits.acquire('crm', { maxConcurrent: 1 });
    expect(b.waitedMs).toBe(0);
    a.release();
    b.release();
  });

  it('a caller that gives up waiting holds nothing: not a place, not a slot', async () => {
    const clock = new SimulatedClock(0);
    const limits = new LocalLimits(limitsClock(clock), 1);
    const first = await limits.acquire('erp', { maxConcurrent: 1 });
    const gone = new AbortController();
    const waiting = limits.acquire('erp', { maxConcurrent: 1 }, gone.signal);
    const next = limits.acquire('erp', { maxConcurrent: 1 });
    gone.abort();
    await expect(waiting).rejects.toThrow();
    first.release();
    const p = await next;
    expect(limits.held('erp')).toBe(1);
    p.release();

    // paced: the one that gives up gives its slot back to the next caller
    const slow = { maxPerSecond: 1 };
    const one = await limits.acquire('paced', slow);
    one.release();
    const cancel = new AbortController();
    const two = limits.acquire('paced', slow, cancel.signal);
    await clock.advance(100);
    cancel.abort();
    await expect(two).rejects.toThrow();
    expect(limits.held('paced')).toBe(0);
    // asked for at 100 ms, it gets the slot the one that gave up had, a second after the first
    const three = limits.acquire('paced', slow);
    await clock.advance(900);
    expect((await three).waitedMs).toBe(900);

    const aborted = new AbortController();
    aborted.abort();
    await expect(limits.acquire('erp', { maxConcurrent: 1 }, aborted.signal)).rejects.toThrow();
    expect(limits.held('erp')).toBe(0);
  });

  it('holds every run of the process to the connection’s limit together', async () => {
    const clock = new SimulatedClock(0);
    const limits = new LocalLimits(limitsClock(clock), 1);
    let inFlight = 0;
    let most = 0;
    const connectors = {
      ...fakeConnectors(
        async () => {
          inFlight++;
          most = Math.max(most, inFlight);
          await later(clock, 40);
          inFlight--;
          return json(201, {});
        },
        { erp: { name: 'erp', baseUrl: 'http://erp.test', headers: {}, limits: { maxConcurrent: 3 } } },
      ),
      limits,
    };
    const flow = flowOf(
      [
        { id: 'start', type: 'manual' },
        {
          id: 'src',
          type: 'inline-records',
          params: { records: Array.from({ length: 12 }, (_, i) => ({ key: `r${i}` })), keyField: 'key' },
        },
        { id: 'write', type: 'http-write', params: { connection: 'erp', url: '/orders', concurrency: 4 } },
      ],
      chain('start', 'src', 'write'),
    );
    const runs = ['a', 'b', 'c'].map(
      (runId) => startRun({ runId, flow, clock, runtime: testRuntime, store: new MemoryRunStore(), connectors }).done,
    );
    const results = await clock.run(Promise.all(runs));
    expect(results.map((r) => r.counts.succeeded)).toEqual([12, 12, 12]);
    expect(most).toBe(3);
    expect(limits.held('erp')).toBe(0);
  });
});
