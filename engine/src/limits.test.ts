import { describe, expect, it } from 'vitest';
import { LIMIT_WAIT_REPORT_MS } from './execution/permits.js';
import { HttpFailure, type HttpResponse, type LimitSettings, type RunEvent } from './ports.js';
import { startRun } from './run.js';
import {
  chain,
  fakeConnectors,
  flowOf,
  json,
  MemoryRunStore,
  memoryLimits,
  SimulatedClock,
  sourceFlow,
  testRuntime,
} from './testing/index.js';

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `r${i}`, n: i }));

/** trigger → inline source → batch → write (these params) on the "erp" connection. */
function writeFlow(n: number, write: Record<string, unknown> = {}, type = 'http-write') {
  return flowOf(
    [
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records', params: { records: records(n), keyField: 'key' } },
      { id: 'batch', type: 'batch', params: { size: n } },
      {
        id: 'write',
        type,
        params:
          type === 'http-write' ? { connection: 'erp', url: '/orders', ...write } : { connection: 'erp', ...write },
      },
    ],
    chain('start', 'src', 'batch', 'write'),
  );
}

const erp = (limits?: LimitSettings) => ({
  erp: { name: 'erp', baseUrl: 'http://erp.test', headers: {}, ...(limits ? { limits } : {}) },
});

/** A handler that answers after `ms` of the clock, counting requests in flight. */
function slowErp(clock: SimulatedClock, ms: number, answer: (body: unknown) => HttpResponse = () => json(201, {})) {
  const seen = { inFlight: 0, most: 0, sent: [] as number[] };
  const handler = async (_req?: unknown, body?: unknown) => {
    seen.inFlight++;
    seen.most = Math.max(seen.most, seen.inFlight);
    seen.sent.push(clock.now());
    await new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    seen.inFlight--;
    return answer(body);
  };
  return { seen, handler };
}

describe('connection limits', () => {
  it('keeps at most maxConcurrent requests in flight, whatever the write concurrency', async () => {
    const clock = new SimulatedClock(0);
    const { seen, handler } = slowErp(clock, 50);
    const limits = memoryLimits(clock);
    const connectors = { ...fakeConnectors(handler, erp({ maxConcurrent: 2 })), limits };
    const result = await clock.run(
      startRun({
        runId: 'r',
        flow: writeFlow(10, { concurrency: 5 }),
        clock,
        runtime: testRuntime,
        store: new MemoryRunStore(),
        connectors,
      }).done,
    );
    expect(result.counts.succeeded).toBe(10);
    expect(seen.most).toBe(2);
    // two at a time, 50 ms each
    expect(seen.sent).toEqual([0, 0, 50, 50, 100, 100, 150, 150, 200, 200]);
    expect(limits.held('erp')).toBe(0);
  });

  it('spaces requests evenly at maxPerSecond, for batch writes of an entity too', async () => {
    const clock = new SimulatedClock(0);
    const { seen, handler } = slowErp(clock, 10, (body) =>
      json(207, { results: (body as { items: unknown[] }).items.map(() => ({ status: 201 })) }),
    );
    const connectors = {
      ...fakeConnectors(
        (req, body) => (req.url.endsWith('/batch') ? handler(req, body) : json(500, {})),
        erp({ maxPerSecond: 10 }),
      ),
      limits: memoryLimits(clock),
    };
    const flow = writeFlow(12, { entity: 'work-orders', mode: 'batch', batchSize: 2, concurrency: 4 }, 'entity-write');
    const result = await clock.run(
      startRun({ runId: 'r', flow, clock, runtime: testRuntime, store: new MemoryRunStore(), connectors }).done,
    );
    expect(result.counts.succeeded).toBe(12);
    expect(seen.sent).toEqual([0, 100, 200, 300, 400, 500]);
  });

  it('takes a permit for every page an HTTP source reads', async () => {
    const clock = new SimulatedClock(0);
    const all = records(30);
    const sent: number[] = [];
    const connectors = {
      ...fakeConnectors(
        (req) => {
          sent.push(clock.now());
          const page = Number(new URL(req.url).searchParams.get('page') ?? 1);
          return json(200, { data: all.slice((page - 1) * 10, page * 10) });
        },
        { api: { name: 'api', baseUrl: 'http://api.test', headers: {}, limits: { maxPerSecond: 2 } } },
      ),
      limits: memoryLimits(clock),
    };
    const flow = sourceFlow('http-source', {
      connection: 'api',
      url: '/items',
      keyField: 'key',
      pageSize: 10,
      pagination: { type: 'page', pageParam: 'page' },
    });
    const result = await clock.run(
      startRun({ runId: 'r', flow, clock, runtime: testRuntime, store: new MemoryRunStore(), connectors }).done,
    );
    expect(result.counts.succeeded).toBe(30);
    expect(sent).toEqual([0, 500, 1000, 1500]);
  });

  it('says the node waits on the limit once a request has waited a moment, and stops saying so when it goes on', async () => {
    const clock = new SimulatedClock(0);
    const { handler } = slowErp(clock, 300);
    const connectors = { ...fakeConnectors(handler, erp({ maxConcurrent: 1 })), limits: memoryLimits(clock) };
    const store = new MemoryRunStore();
    const events: RunEvent[] = [];
    const result = await clock.run(
      startRun({
        runId: 'r',
        flow: writeFlow(3, { concurrency: 3 }),
        clock,
        runtime: testRuntime,
        store,
        connectors,
        onEvent: (e) => events.push(e),
      }).done,
    );
    expect(result.counts.succeeded).toBe(3);
    // requests 2 and 3 wait behind the first: said once, after the moment, with the limits waited on
    expect(store.waits[0]).toEqual({
      kind: 'limit',
      nodeId: 'write',
      connection: 'erp',
      until: LIMIT_WAIT_REPORT_MS,
      limits: { maxConcurrent: 1 },
    });
    // cleared when the last waiting request got its permit (at 600), not when the first of them did
    expect(store.waits.at(-1)).toBeNull();
    const waits = events.filter((e) => e.type === 'waiting');
    expect(waits.map((e) => e.waiting?.kind ?? null)).toEqual(store.waits.map((w) => w?.kind ?? null));
    expect(store.waits.filter((w) => w === null)).toHaveLength(1);
  });

  it('says until when a paced request waits, and nothing for a wait shorter than a moment', async () => {
    const clock = new SimulatedClock(0);
    const { handler } = slowErp(clock, 1);
    const fast = { ...fakeConnectors(handler, erp({ maxPerSecond: 20 })), limits: memoryLimits(clock) };
    const quick = new MemoryRunStore();
    await clock.run(
      startRun({ runId: 'a', flow: writeFlow(3), clock, runtime: testRuntime, store: quick, connectors: fast }).done,
    );
    expect(quick.waits).toEqual([]);

    const slow = { ...fakeConnectors(handler, erp({ maxPerSecond: 2 })), limits: memoryLimits(clock) };
    const store = new MemoryRunStore();
    const start = clock.now();
    await clock.run(
      startRun({
        runId: 'b',
        flow: writeFlow(2, { concurrency: 2 }),
        clock,
        runtime: testRuntime,
        store,
        connectors: slow,
      }).done,
    );
    expect(store.waits[0]).toMatchObject({ kind: 'limit', connection: 'erp', until: start + 500 });
    expect(store.waits.at(-1)).toBeNull();
  });

  it('gives permits back when a request fails or times out', async () => {
    const clock = new SimulatedClock(0);
    let calls = 0;
    const limits = memoryLimits(clock);
    const connectors = {
      ...fakeConnectors(
        () => {
          calls++;
          if (calls === 1) throw new HttpFailure('timed out', 'timeout');
          if (calls === 2) return json(503, {});
          return json(201, {});
        },
        erp({ maxConcurrent: 1 }),
      ),
      limits,
    };
    const result = await clock.run(
      startRun({
        runId: 'r',
        flow: writeFlow(2, { retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 10 } }),
        clock,
        runtime: testRuntime,
        store: new MemoryRunStore(),
        connectors,
        random: () => 0,
      }).done,
    );
    expect(result.counts.succeeded).toBe(2);
    expect(calls).toBe(4);
    expect(limits.held('erp')).toBe(0);
  });

  it('releases the permits of a cancelled run, those in flight and those waited for', async () => {
    const clock = new SimulatedClock(0);
    const limits = memoryLimits(clock);
    let sent = 0;
    const connectors = {
      ...fakeConnectors(
        (req) =>
          new Promise((_resolve, reject) => {
            sent++;
            // the system never answers: only the run's cancellation ends the request
            req.signal?.addEventListener('abort', () => reject(new HttpFailure('aborted', 'aborted')));
          }),
        erp({ maxConcurrent: 2 }),
      ),
      limits,
    };
    const store = new MemoryRunStore();
    const run = startRun({
      runId: 'r',
      flow: writeFlow(6, { concurrency: 6 }),
      clock,
      runtime: testRuntime,
      store,
      connectors,
    });
    await clock.advance(1000);
    expect(sent).toBe(2);
    expect(limits.held('erp')).toBe(2);
    expect(store.waits.at(-1)).toMatchObject({ kind: 'limit' });
    run.cancel();
    const result = await clock.run(run.done);
    expect(result.status).toBe('cancelled');
    expect(limits.held('erp')).toBe(0);
    expect(sent).toBe(2);
    expect(store.waits.at(-1)).toBeNull();
    // the connection is free for the next run at once
    const next = await clock.run(
      limits.acquire('erp', { maxConcurrent: 2 }).then((p) => {
        p.release();
        return p.waitedMs;
      }),
    );
    expect(next).toBe(0);
  });

  it('a probe cancelled while it waits for a permit leaves the probe to the next run', async () => {
    const { BreakerRegistry } = await import('./breaker.js');
    const clock = new SimulatedClock(0);
    const breakers = new BreakerRegistry(clock);
    const limits = memoryLimits(clock);
    const sent: number[] = [];
    const connectors = {
      ...fakeConnectors(
        () => {
          sent.push(clock.now());
          return json(201, {});
        },
        erp({ maxConcurrent: 1 }),
      ),
      limits,
    };
    breakers.get('erp').trip(); // open until 30 s (the default cooldown)
    const options = { clock, runtime: testRuntime, store: new MemoryRunStore(), connectors, breakers };
    // another request holds the only place when the cooldown ends
    const held = await limits.acquire('erp', { maxConcurrent: 1 });
    const a = startRun({ runId: 'a', flow: writeFlow(1), ...options });
    await clock.advance(30_000);
    expect(breakers.get('erp').state).toBe('half-open');
    a.cancel();
    await clock.run(a.done);
    held.release();
    const b = await clock.run(startRun({ runId: 'b', flow: writeFlow(1), ...options }).done);
    expect(b.counts.succeeded).toBe(1);
    expect(sent).toHaveLength(1);
    expect(breakers.get('erp').state).toBe('closed');
  });

  it('sends requests without permits when the connection has no limits or the connectors keep none', async () => {
    const clock = new SimulatedClock(0);
    const { seen, handler } = slowErp(clock, 50);
    const limits = memoryLimits(clock);
    const connectors = { ...fakeConnectors(handler, erp()), limits };
    await clock.run(
      startRun({
        runId: 'a',
        flow: writeFlow(4, { concurrency: 4 }),
        clock,
        runtime: testRuntime,
        store: new MemoryRunStore(),
        connectors,
      }).done,
    );
    expect(seen.most).toBe(4);
    const { seen: seen2, handler: handler2 } = slowErp(clock, 50);
    await clock.run(
      startRun({
        runId: 'b',
        flow: writeFlow(4, { concurrency: 4 }),
        clock,
        runtime: testRuntime,
        store: new MemoryRunStore(),
        connectors: fakeConnectors(handler2, erp({ maxConcurrent: 1 })),
      }).done,
    );
    expect(seen2.most).toBe(4);
  });

  it('adaptive pacing: a 429 costs no attempt, the keeper hears every answer, and the run tells each new pace', async () => {
    const clock = new SimulatedClock(0);
    let n = 0;
    // the first six answers say "slower": more than the three attempts a record has
    const { handler } = slowErp(clock, 10, () => (++n <= 6 ? json(429, { error: 'slow down' }) : json(201, {})));
    const inner = memoryLimits(clock);
    const answers: (number | undefined)[] = [];
    let throttles = 0;
    const limits = {
      held: inner.held,
      async acquire(connection: string, settings: LimitSettings, signal?: AbortSignal) {
        const permit = await inner.acquire(connection, settings, signal);
        const pace = { perSecond: throttles ? 10 / throttles : null, concurrency: null, reason: 'throttled' };
        return {
          waitedMs: permit.waitedMs,
          pace,
          release(answer?: { status?: number }) {
            answers.push(answer?.status);
            if (answer?.status === 429) throttles++;
            permit.release();
          },
        };
      },
    };
    const events: RunEvent[] = [];
    const connectors = { ...fakeConnectors(handler, erp({ maxPerSecond: 100, adaptive: true })), limits };
    const result = await clock.run(
      startRun({
        runId: 'a',
        flow: writeFlow(2, { concurrency: 1, retry: { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 100 } }),
        clock,
        runtime: testRuntime,
        store: new MemoryRunStore(),
        connectors,
        onEvent: (e) => events.push(e),
      }).done,
    );
    expect(result.counts).toMatchObject({ succeeded: 2, failed: 0 });
    expect(answers).toEqual([429, 429, 429, 429, 429, 429, 201, 201]);
    const paces = events.flatMap((e) => (e.type === 'pace' ? [e.pace.perSecond] : []));
    // told once per change, rounded to a tenth: none yet, then 10, 5, 3.3, 2.5, 2, 1.7
    expect(paces).toEqual([null, 10, 5, 3.3, 2.5, 2, 1.7]);
    expect(inner.held('erp')).toBe(0);
  });

  it('without adaptive pacing, 429s spend the attempts as before', async () => {
    const clock = new SimulatedClock(0);
    const { handler } = slowErp(clock, 10, () => json(429, { error: 'slow down' }));
    const connectors = { ...fakeConnectors(handler, erp({ maxPerSecond: 100 })), limits: memoryLimits(clock) };
    const result = await clock.run(
      startRun({
        runId: 'b',
        flow: writeFlow(1, { concurrency: 1, retry: { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 100 } }),
        clock,
        runtime: testRuntime,
        store: new MemoryRunStore(),
        connectors,
      }).done,
    );
    expect(result.counts).toMatchObject({ failed: 1 });
  });
});
