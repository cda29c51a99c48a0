import { describe, expect, it } from 'vitest';
import type { ConnectionCheck } from './ports.js';
import { startRun } from './run.js';
import { chain, fakeConnectors, flowOf, json, MemoryRunStore, SimulatedClock, testRuntime } from './testing/index.js';

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `r${i}`, n: i }));

/** trigger → inline source → batch → write (connection "erp") → error branch → collect; a second write on "erp" too. */
function writeFlow(n: number, write: Record<string, unknown> = {}) {
  return flowOf(
    [
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records', params: { records: records(n), keyField: 'key' } },
      { id: 'batch', type: 'batch', params: { size: 2 } },
      {
        id: 'write',
        type: 'http-write',
        params: {
          connection: 'erp',
          url: '/orders',
          retry: { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1000 },
          ...write,
        },
      },
      { id: 'audit', type: 'http-write', params: { connection: 'erp', url: '/audit' } },
      { id: 'errors', type: 'error-branch' },
      { id: 'dead', type: 'collect' },
    ],
    [...chain('start', 'src', 'batch', 'write', 'audit'), ...chain('write:error', 'errors', 'dead')],
  );
}

const connections = {
  erp: { name: 'erp', baseUrl: 'http://erp.test', headers: {}, breaker: { failureThreshold: 3, cooldownMs: 10_000 } },
};

describe('connection check before a run', () => {
  it('fails the run at once, naming the connection, when the system refuses the credentials', async () => {
    const clock = new SimulatedClock(0);
    const store = new MemoryRunStore();
    const connectors = fakeConnectors(() => json(201, {}), connections, {
      check: () => ({ ok: false, status: 401, message: 'HTTP 401 from GET http://erp.test' }),
    });
    const result = await clock.run(
      startRun({ runId: 'r', flow: writeFlow(4), clock, runtime: testRuntime, store, connectors }).done,
    );
    expect(result.status).toBe('failed');
    expect(result.error).toBe('connection "erp": the system refused the credentials (HTTP 401) — check its token');
    expect(result.counts.read).toBe(0);
    expect(connectors.requests).toHaveLength(0);
    expect(connectors.checks).toEqual(['erp']); // two nodes name it; it is checked once
  });

  it('treats 403 as a refusal too', async () => {
    const clock = new SimulatedClock(0);
    const connectors = fakeConnectors(() => json(201, {}), connections, {
      check: () => ({ ok: false, status: 403, message: 'HTTP 403' }),
    });
    const result = await clock.run(
      startRun({ runId: 'r', flow: writeFlow(1), clock, runtime: testRuntime, store: new MemoryRunStore(), connectors })
        .done,
    );
    expect(result.error).toMatch(/^connection "erp": the system refused the credentials \(HTTP 403\)/);
  });

  it('fails the run at once, naming the connection and the rule, when the outbound guard refuses its address', async () => {
    const clock = new SimulatedClock(0);
    const message = 'outbound guard: 10.1.2.3 is a private address; allow it with SLUICE_ALLOW_HOSTS';
    const connectors = fakeConnectors(() => json(201, {}), connections, {
      check: () => ({ ok: false, message, refused: true }),
    });
    const result = await clock.run(
      startRun({ runId: 'r', flow: writeFlow(2), clock, runtime: testRuntime, store: new MemoryRunStore(), connectors })
        .done,
    );
    expect(result.status).toBe('failed');
    expect(result.error).toBe(`connection "erp": ${message}`);
    expect(result.counts.read).toBe(0);
    expect(connectors.requests).toHaveLength(0);
  });

  it('lets the run start when the check fails otherwise (unreachable, 5xx, or the check throws)', async () => {
    const answers: (() => ConnectionCheck | Promise<ConnectionCheck>)[] = [
      () => ({ ok: false, message: 'cannot reach erp.test: ECONNREFUSED' }),
      () => ({ ok: false, status: 503, message: 'HTTP 503' }),
      () => Promise.reject(new Error('boom')),
      () => ({ ok: true, status: 200, message: 'HTTP 200' }),
    ];
    for (const answer of answers) {
      const clock = new SimulatedClock(0);
      const connectors = fakeConnectors(() => json(201, {}), connections, { check: answer });
      const result = await clock.run(
        startRun({
          runId: 'r',
          flow: writeFlow(3),
          clock,
          runtime: testRuntime,
          store: new MemoryRunStore(),
          connectors,
        }).done,
      );
      expect(result.status).toBe('succeeded');
      expect(result.counts.succeeded).toBe(3);
    }
  });

  it('sends no check while the run is paused', async () => {
    const clock = new SimulatedClock(0);
    const connectors = fakeConnectors(() => json(201, {}), connections, {
      check: () => ({ ok: true, status: 200, message: 'HTTP 200' }),
    });
    const run = startRun({
      runId: 'r',
      flow: writeFlow(1),
      clock,
      runtime: testRuntime,
      store: new MemoryRunStore(),
      connectors,
      paused: true,
    });
    await clock.advance(1000);
    expect(connectors.checks).toEqual([]);
    run.resume();
    expect((await clock.run(run.done)).status).toBe('succeeded');
    expect(connectors.checks).toEqual(['erp']);
  });
});

describe('credentials refused during a run', () => {
  it('opens the breaker at the first 401; the records wait (and say so) instead of failing, then all go through', async () => {
    const clock = new SimulatedClock(0);
    const sent: { at: number; key: string; status: number }[] = [];
    let token = 'old';
    const conns = { erp: { ...connections.erp, headers: { authorization: 'Bearer old' } } };
    // the token expires at t=0 after the first two writes; a new one is in place from t=15 s
    const connectors = fakeConnectors((req, body) => {
      const key = (body as { key?: string } | undefined)?.key ?? '';
      const status =
        req.headers.authorization === `Bearer ${token}` && (token !== 'old' || sent.length < 2) ? 201 : 401;
      sent.push({ at: clock.now(), key, status });
      return status === 401 ? json(401, { error: { message: 'token expired' } }) : json(201, {});
    }, conns);
    clock.setTimeout(() => {
      token = 'new';
      conns.erp.headers = { authorization: 'Bearer new' };
    }, 15_000);
    const store = new MemoryRunStore();
    const result = await clock.run(
      startRun({ runId: 'r', flow: writeFlow(6, { url: '/orders' }), clock, runtime: testRuntime, store, connectors })
        .done,
    );
    expect(result.status).toBe('succeeded');
    expect(result.counts).toMatchObject({ read: 6, failed: 0, succeeded: 6 });
    const refusals = sent.filter((s) => s.status === 401);
    // one refusal opened the breaker; one probe per cooldown until the new token is in place (t=15 s),
    // which the waiting record picks up; r1's audit request was built with the old token before that,
    // so it is refused once more and waits one more cooldown, then goes with the new one
    expect(refusals.map((r) => [r.at, r.key])).toEqual([
      [0, 'r0'],
      [10_000, 'r0'],
      [20_000, 'r1'],
    ]);
    expect(sent.filter((s) => s.status === 201 && s.at >= 20_000)).toHaveLength(sent.length - 2 - 3);
    expect(store.waits).toContainEqual(expect.objectContaining({ kind: 'breaker', connection: 'erp', until: 10_000 }));
    expect(store.waits.at(-1)).toBeNull();
  });

  it('a 401 on a single request does not spend the record’s attempts', async () => {
    const clock = new SimulatedClock(0);
    let calls = 0;
    const connectors = fakeConnectors(() => (++calls === 1 ? json(401, {}) : json(201, {})), connections);
    const store = new MemoryRunStore();
    const result = await clock.run(
      startRun({
        runId: 'r',
        flow: writeFlow(1, { retry: { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0 } }),
        clock,
        runtime: testRuntime,
        store,
        connectors,
      }).done,
    );
    expect(result.counts).toMatchObject({ succeeded: 1, failed: 0 });
    expect(clock.now()).toBe(10_000); // waited out the breaker's cooldown
  });
});

describe('where a check comes from', () => {
  it('names the run and the first node that names the connection', async () => {
    const clock = new SimulatedClock(0);
    const origins: unknown[] = [];
    const connectors = {
      ...fakeConnectors(() => json(201, {}), connections),
      check: async (_name: string, _signal?: AbortSignal, origin?: unknown): Promise<ConnectionCheck> => {
        origins.push(origin);
        return { ok: true, status: 200, message: 'HTTP 200' };
      },
    };
    const result = await clock.run(
      startRun({
        runId: 'r7',
        flow: writeFlow(2),
        clock,
        runtime: testRuntime,
        store: new MemoryRunStore(),
        connectors,
      }).done,
    );
    expect(result.status).toBe('succeeded');
    // "write" and "audit" both name "erp": one check, for the first
    expect(origins).toEqual([{ runId: 'r7', nodeId: 'write' }]);
  });
});
