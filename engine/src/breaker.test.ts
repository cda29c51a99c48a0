import { describe, expect, it } from 'vitest';
import { type BreakerChange, BreakerRegistry } from './breaker.js';
import { startRun } from './run.js';
import { chain, fakeConnectors, flowOf, json, MemoryRunStore, SimulatedClock, testRuntime } from './testing/index.js';

const settings = { failureThreshold: 2, cooldownMs: 1000 };

/** Lets `acquire` run to its first wait (or to its return). */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('breakers shared across processes: the changes seen here', () => {
  it('reports every change of state with its deadline and failures, until unsubscribed', async () => {
    const clock = new SimulatedClock(0);
    const registry = new BreakerRegistry(clock);
    const changes: BreakerChange[] = [];
    const stop = registry.onChange((c) => changes.push(c));
    const breaker = registry.get('erp', settings);
    const signal = new AbortController().signal;

    breaker.report(false);
    expect(changes).toEqual([]); // one failure changes no state
    breaker.report(false);
    expect(changes).toEqual([{ connection: 'erp', state: 'open', openUntil: 1000, failures: 2 }]);

    await clock.advance(1000);
    await breaker.acquire(signal, () => {});
    expect(changes.at(-1)).toEqual({ connection: 'erp', state: 'half-open', openUntil: 1000, failures: 2 });
    breaker.report(true);
    expect(changes.at(-1)).toEqual({ connection: 'erp', state: 'closed', openUntil: null, failures: 0 });

    stop();
    breaker.trip();
    expect(changes).toHaveLength(3);
  });

  it('goes on whatever a listener throws', () => {
    const registry = new BreakerRegistry(new SimulatedClock(0));
    const seen: string[] = [];
    registry.onChange(() => {
      throw new Error('listener failed');
    });
    registry.onChange((c) => seen.push(c.state));
    const breaker = registry.get('erp', settings);
    expect(() => breaker.trip()).not.toThrow();
    expect(breaker.state).toBe('open');
    expect(seen).toEqual(['open']);
  });
});

describe('a probe given up', () => {
  it('passes the probe to the next caller instead of leaving every caller waiting', async () => {
    const clock = new SimulatedClock(0);
    const breaker = new BreakerRegistry(clock).get('erp', settings);
    breaker.trip();
    await clock.advance(1000);
    const signal = new AbortController().signal;
    expect(await breaker.acquire(signal, () => {})).toBe(true);
    let next: boolean | undefined;
    void breaker
      .acquire(signal, () => {})
      .then((probe) => {
        next = probe;
      });
    await clock.advance(10_000);
    expect(next).toBeUndefined();
    breaker.abandon();
    await clock.advance(0);
    expect(next).toBe(true);
    expect(breaker.state).toBe('half-open');
  });
});

describe('breakers shared across processes: a state learned elsewhere', () => {
  it('opens the breaker here until the given time, without reporting it back', async () => {
    const clock = new SimulatedClock(0);
    const registry = new BreakerRegistry(clock);
    const changes: BreakerChange[] = [];
    registry.onChange((c) => changes.push(c));
    const breaker = registry.get('erp', settings);
    registry.apply('erp', { state: 'open', openUntil: 5000 });
    expect(breaker.snapshot()).toEqual({ state: 'open', failures: 0, openUntil: 5000 });
    expect(changes).toEqual([]);

    const waits: (number | null)[] = [];
    let passed = -1;
    void breaker
      .acquire(new AbortController().signal, (until) => waits.push(until))
      .then(() => {
        passed = clock.now();
      });
    await clock.advance(4999);
    expect(passed).toBe(-1);
    await clock.advance(1);
    // the first request after the cooldown is this process's probe
    expect(passed).toBe(5000);
    expect(waits).toEqual([5000]);
    expect(breaker.state).toBe('half-open');
  });

  it('never shortens a cooldown, and ignores one already over', async () => {
    const clock = new SimulatedClock(10_000);
    const registry = new BreakerRegistry(clock);
    const breaker = registry.get('erp', settings);
    registry.apply('erp', { state: 'open', openUntil: 9000 });
    expect(breaker.state).toBe('closed');
    registry.apply('erp', { state: 'open', openUntil: 20_000 });
    registry.apply('erp', { state: 'open', openUntil: 15_000 });
    expect(breaker.snapshot().openUntil).toBe(20_000);
  });

  it('closed lets the requests held by the cooldown go at once', async () => {
    const clock = new SimulatedClock(0);
    const registry = new BreakerRegistry(clock);
    const breaker = registry.get('erp', settings);
    breaker.trip();
    const passed: number[] = [];
    const signal = new AbortController().signal;
    for (let i = 0; i < 3; i++) void breaker.acquire(signal, () => {}).then(() => passed.push(clock.now()));
    await clock.advance(200);
    expect(passed).toEqual([]);
    registry.apply('erp', { state: 'closed' });
    await clock.advance(0);
    expect(passed).toEqual([200, 200, 200]);
    expect(breaker.snapshot()).toEqual({ state: 'closed', failures: 0, openUntil: null });
  });

  it('takes a probe out here off duty: requests wait for the new cooldown', async () => {
    const clock = new SimulatedClock(0);
    const registry = new BreakerRegistry(clock);
    const breaker = registry.get('erp', settings);
    breaker.trip();
    await clock.advance(1000);
    const signal = new AbortController().signal;
    await breaker.acquire(signal, () => {});
    expect(breaker.state).toBe('half-open');
    registry.apply('erp', { state: 'open', openUntil: 3000 });
    // the earlier probe's answer comes in after the other process found the system down
    breaker.report(true);
    expect(breaker.snapshot()).toMatchObject({ state: 'open', openUntil: 3000 });
    let passed = -1;
    void breaker
      .acquire(signal, () => {})
      .then(() => {
        passed = clock.now();
      });
    await turn();
    await clock.advance(2000);
    expect(passed).toBe(3000);
  });

  it('keeps a state learned for a connection not used here yet for its first run', async () => {
    const clock = new SimulatedClock(0);
    const registry = new BreakerRegistry(clock);
    registry.apply('erp', { state: 'open', openUntil: 4000 });
    const sent: number[] = [];
    const connectors = fakeConnectors(
      () => {
        sent.push(clock.now());
        return json(201, {});
      },
      { erp: { name: 'erp', baseUrl: 'http://erp.test', headers: {} } },
    );
    const store = new MemoryRunStore();
    const flow = flowOf(
      [
        { id: 'start', type: 'manual' },
        { id: 'src', type: 'inline-records', params: { records: [{ key: 'a' }], keyField: 'key' } },
        { id: 'write', type: 'http-write', params: { connection: 'erp', url: '/orders' } },
      ],
      chain('start', 'src', 'write'),
    );
    const result = await clock.run(
      startRun({ runId: 'r', flow, clock, runtime: testRuntime, store, connectors, breakers: registry }).done,
    );
    expect(result.counts.succeeded).toBe(1);
    expect(sent).toEqual([4000]);
    expect(store.waits[0]).toMatchObject({ kind: 'breaker', connection: 'erp', until: 4000 });
  });

  it('a learned closed state forgets one learned before the first use', () => {
    const clock = new SimulatedClock(0);
    const registry = new BreakerRegistry(clock);
    registry.apply('erp', { state: 'open', openUntil: 4000 });
    registry.apply('erp', { state: 'closed' });
    expect(registry.get('erp', settings).state).toBe('closed');
  });
});
