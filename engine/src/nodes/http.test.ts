import { describe, expect, it } from 'vitest';
import { AuthRefused, type ConnectionAuth, type HttpRequest } from '../ports.js';
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
