import { describe, expect, it } from 'vitest';
import { AuthRefused, type ConnectionAuth, HttpFailure, type HttpRequest } from '../ports.js';
import { startRun } from '../run.js';
import { chain, fakeConnectors, flowOf, json, MemoryRunStore, SimulatedClock, testRuntime } from '../testing/index.js';

/** Tokens `t1`, `t2`, … handed out one at a time; `refuse` makes the endpoint refuse the credentials. */
function tokenSource(o: { refuse?: boolean } = {}) {
  let issued = 0;
  let current: string | undefined;
  const auth: ConnectionAuth & { issued: () => number } = {
    issued: () => issued,
    headers: async () => {
      if (o.refuse) throw new AuthRefused('token endpoint: invalid_client (the client secret is wrong)', 401);
      if (!current) current = `t${++issued}`;
      return { authorization: `Bearer ${current}` };
    },
    invalidate: (used) => {
      if (used.authorization === `Bearer ${current}`) current = undefined;
    },
  };
  return auth;
}

function writeFlow(n: number) {
  const records = Array.from({ length: n }, (_, i) => ({ key: `r${i}` }));
  return flowOf(
    [
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records', params: { records, keyField: 'key' } },
      {
        id: 'write',
        type: 'http-write',
        params: { connection: 'erp', url: '/orders', retry: { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0 } },
      },
    ],
    chain('start', 'src', 'write'),
  );
}

async function run(n: number, auth: ConnectionAuth, handler: (request: HttpRequest) => ReturnType<typeof json>) {
  const clock = new SimulatedClock(0);
  const connectors = fakeConnectors(handler, {
    erp: {
      name: 'erp',
      baseUrl: 'http://erp.test',
      headers: {},
      auth,
      breaker: { failureThreshold: 1, cooldownMs: 1000 },
    },
  });
  const handle = startRun({
    runId: 'run1',
    flow: writeFlow(n),
    clock,
    runtime: testRuntime,
    store: new MemoryRunStore(),
    connectors,
  });
  return { handle, clock, requests: connectors.requests };
}

describe('requests on a connection that obtains its tokens', () => {
  it('sends the token, and renews it once on a 401 without the breaker or the record counting it', async () => {
    const auth = tokenSource();
    let valid = 't1';
    let sent = 0;
    const { handle, clock, requests } = await run(10, auth, (request) => {
      sent++;
      if (sent === 5) valid = 't2'; // the system lets t1 expire early
      return request.headers.authorization === `Bearer ${valid}` ? json(201, {}) : json(401, { error: 'expired' });
    });
    const result = await clock.run(handle.done);
    // maxAttempts 1 and a breaker that opens on the first failure: the renewal spent neither
    expect(result.counts).toMatchObject({ succeeded: 10, failed: 0 });
    expect(auth.issued()).toBe(2);
    expect(requests).toHaveLength(11);
    expect(requests.slice(4, 6).map((r) => r.headers.authorization)).toEqual(['Bearer t1', 'Bearer t2']);
  });

  it('waits on the breaker, not failing the records, when the system refuses even a new token', async () => {
    const auth = tokenSource();
    let refusing = true;
    const { handle, clock, requests } = await run(3, auth, () => (refusing ? json(401, {}) : json(201, {})));
    await clock.advance(500);
    // the first request and its renewal, then the breaker is open
    expect(requests).toHaveLength(2);
    refusing = false;
    const result = await clock.run(handle.done);
    expect(result.counts).toMatchObject({ succeeded: 3, failed: 0 });
  });

  it('treats a token endpoint that refuses the credentials as a refusal of the system', async () => {
    const { handle, clock, requests } = await run(2, tokenSource({ refuse: true }), () => json(201, {}));
    await clock.advance(5000);
    expect(requests).toHaveLength(0);
    handle.cancel();
    const result = await clock.run(handle.done);
    expect(result.status).toBe('cancelled');
  });
});

describe('a request the outbound guard refuses', () => {
  it('fails the record at once: no retry, no wait, and the breaker does not count it', async () => {
    const clock = new SimulatedClock(0);
    const message = 'outbound guard: 127.0.0.2 is a loopback address; allow it with SLUICE_ALLOW_HOSTS';
    let sent = 0;
    const connectors = fakeConnectors(() => json(201, {}), {
      erp: {
        name: 'erp',
        baseUrl: 'http://erp.test',
        headers: {},
        breaker: { failureThreshold: 1, cooldownMs: 60_000 },
      },
    });
    const refusing = {
      ...connectors,
      http: async (request: HttpRequest) => {
        sent++;
        // "b" goes to a system the guard allows; "a" and "c" (say, redirected) to one it refuses
        if (!request.body?.includes('"b"')) throw new HttpFailure(message, 'refused');
        return connectors.http(request);
      },
    };
    const flow = flowOf(
      [
        { id: 'start', type: 'manual' },
        {
          id: 'src',
          type: 'inline-records',
          params: { records: [{ key: 'a' }, { key: 'b' }, { key: 'c' }], keyField: 'key' },
        },
        {
          id: 'write',
          type: 'http-write',
          params: {
            connection: 'erp',
            url: '/orders',
            retry: { maxAttempts: 5, initialDelayMs: 1000, maxDelayMs: 1000 },
          },
        },
        { id: 'errors', type: 'error-branch' },
        { id: 'dead', type: 'collect' },
      ],
      [...chain('start', 'src', 'write'), ...chain('write:error', 'errors', 'dead')],
    );
    const store = new MemoryRunStore();
    const result = await clock.run(
      startRun({ runId: 'r', flow, clock, runtime: testRuntime, store, connectors: refusing }).done,
    );
    // a breaker that opens at the first failure would have held "b" back a minute: it stayed closed
    expect(result.counts).toMatchObject({ succeeded: 1, failed: 2 });
    expect(sent).toBe(3);
    expect(clock.now()).toBe(0);
    const failed = store.outcomes.filter((o) => o.status === 'failed');
    expect(failed.map((o) => [o.key, o.attempts, o.error])).toEqual([
      ['a', 1, { message, code: 'refused' }],
      ['c', 1, { message, code: 'refused' }],
    ]);
  });
});
