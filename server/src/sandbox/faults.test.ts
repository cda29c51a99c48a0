import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { HttpFailure, type RunEvent, startRun } from '@sluice/engine';
import { MemoryRunStore, validFlow } from '@sluice/engine/testing';
import type { Flow } from '@sluice/shared';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createConnectors, fetchHttpClient } from '../connectors.js';
import { nodeRuntime, systemClock } from '../node-runtime.js';
import { REPO_ROOT } from '../paths.js';
import { workOrderAt } from './data.js';
import type { FaultView } from './faults.js';
import { type Sandbox, startSandbox } from './index.js';

const maint = { authorization: 'Bearer sandbox-maintenance-token' };

describe('faults on demand', () => {
  let sandbox: Sandbox;
  const list = () => `${sandbox.url}/maintenance/api/eam/work-orders?limit=1`;
  const get = () => fetch(list(), { headers: maint });
  const statuses = async (n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const res = await get();
      await res.arrayBuffer();
      out.push(res.status);
    }
    return out;
  };
  const timed = async () => {
    const started = performance.now();
    const res = await get(); // resolves with the headers
    const headersAt = performance.now() - started;
    await res.arrayBuffer();
    return { status: res.status, headersAt };
  };

  beforeAll(async () => {
    sandbox = await startSandbox({ workOrders: 50 });
  });
  afterAll(() => sandbox.close());
  afterEach(() => {
    sandbox.faults.maintenance.clear();
    sandbox.faults.erp.clear();
  });

  it('rate limit: the N+1th request in the window gets 429 with Retry-After in seconds', async () => {
    sandbox.faults.maintenance.set({ rateLimit: { requests: 5, windowMs: 3000 } });
    expect(await statuses(5)).toEqual([200, 200, 200, 200, 200]);
    const limited = await get();
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3);
    expect(await limited.json()).toMatchObject({ error: { code: 'rate_limited' } });
    expect(sandbox.faults.maintenance.get().stats).toMatchObject({ requests: 6, faulted: { rateLimit: 1 } });
  });

  it('rate limit: a new window lets requests through again', async () => {
    sandbox.faults.maintenance.set({ rateLimit: { requests: 2, windowMs: 300 } });
    expect(await statuses(3)).toEqual([200, 200, 429]);
    await new Promise((resolve) => setTimeout(resolve, 320));
    expect(await statuses(3)).toEqual([200, 200, 429]);
  });

  it('hidden limit: at most N in any second, 429 above it with nothing that tells the limit', async () => {
    sandbox.faults.maintenance.set({ hiddenLimit: { perSecond: 4 } });
    expect(await statuses(5)).toEqual([200, 200, 200, 200, 429]);
    const limited = await get();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeNull();
    expect([...limited.headers.keys()].filter((k) => k.includes('ratelimit'))).toEqual([]);
    expect(sandbox.faults.maintenance.get().stats).toMatchObject({ requests: 6, faulted: { hiddenLimit: 2 } });
    // a second after the first ones, room again (a sliding window, not a fixed one)
    await new Promise((resolve) => setTimeout(resolve, 1020));
    expect(await statuses(5)).toEqual([200, 200, 200, 200, 429]);
  });

  it('transient 503s: about the share over 1,000 requests, the same ones for the same seed', async () => {
    const run = async (seed: number) => {
      sandbox.faults.maintenance.set({ seed, transient: { share: 0.1, retryAfter: 2 } });
      return statuses(1000);
    };
    const a = await run(7);
    const share = a.filter((s) => s === 503).length / a.length;
    expect(share).toBeGreaterThan(0.07);
    expect(share).toBeLessThan(0.13);
    expect(a.every((s) => s === 200 || s === 503)).toBe(true);
    expect(await run(7)).toEqual(a);
    expect(await run(8)).not.toEqual(a);
    sandbox.faults.maintenance.set({ seed: 7, transient: { share: 1, retryAfter: 2 } });
    const res = await get();
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
  }, 30_000);

  it('latency: fixed, or random within [min, max]', async () => {
    sandbox.faults.maintenance.set({ latency: { ms: 150 } });
    expect((await timed()).headersAt).toBeGreaterThanOrEqual(145);
    sandbox.faults.maintenance.set({ seed: 3, latency: { min: 20, max: 120 } });
    const times: number[] = [];
    for (let i = 0; i < 12; i++) times.push((await timed()).headersAt);
    for (const t of times) expect(t).toBeGreaterThanOrEqual(18);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(20);
    expect(sandbox.faults.maintenance.get().stats.delayed).toBe(12);
  });

  it('downtime: a time window answered 503, then the system is back', async () => {
    sandbox.faults.maintenance.set({ down: { from: 0, until: 300, answer: 503 } });
    expect(await statuses(2)).toEqual([503, 503]);
    await new Promise((resolve) => setTimeout(resolve, 320));
    expect(await statuses(1)).toEqual([200]);
  });

  it('downtime: a count of requests whose connection is reset, later in the settings', async () => {
    sandbox.faults.maintenance.set({ down: [{ requests: 2 }, { from: 10_000, until: 20_000 }] });
    // a fresh connection per request, so no client retries a request on a reused one behind our back
    const send = () =>
      new Promise<number | string>((resolve) => {
        const req = request(list(), { headers: maint, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        req.end();
      });
    expect([await send(), await send(), await send()]).toEqual(['ECONNRESET', 'ECONNRESET', 200]);
    expect(sandbox.faults.maintenance.get().stats.faulted.down).toBe(2);
    // through the server's HTTP client, a reset is a network failure
    sandbox.faults.maintenance.set({ down: { requests: 5 } });
    const failure = await fetchHttpClient({ method: 'GET', url: list(), headers: maint, timeoutMs: 5000 }).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(HttpFailure);
    expect(failure).toMatchObject({ code: 'network' });
  });

  it('expired credentials: every request 401 until cleared, or after a number of requests', async () => {
    sandbox.faults.maintenance.set({ expiredCredentials: true });
    const refused = await get();
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: 'token_expired' } });
    expect(await statuses(2)).toEqual([401, 401]);
    sandbox.faults.maintenance.clear();
    expect(await statuses(1)).toEqual([200]);
    sandbox.faults.maintenance.set({ expiredCredentials: { afterRequests: 2 } });
    expect(await statuses(4)).toEqual([200, 200, 401, 401]);
  });

  it('slow first byte: the headers come after the delay', async () => {
    sandbox.faults.maintenance.set({ slowFirstByteMs: 200 });
    const { status, headersAt } = await timed();
    expect(status).toBe(200);
    expect(headersAt).toBeGreaterThanOrEqual(195);
    sandbox.faults.maintenance.clear();
    expect((await timed()).headersAt).toBeLessThan(190);
  });

  it('admin endpoints set, read and clear the faults per system, and are never faulted themselves', async () => {
    const admin = (system: string, method: string, body?: unknown) =>
      fetch(`${sandbox.url}/${system}/_sandbox/faults`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const put = await admin('erp', 'PUT', { seed: 5, expiredCredentials: true, down: { from: 0, until: 60_000 } });
    expect(put.status).toBe(200);
    const view = (await put.json()) as FaultView;
    expect(view.settings).toMatchObject({ seed: 5, expiredCredentials: true, down: { from: 0, until: 60_000 } });
    // the admin path and the ERP's own _sandbox paths answer while the ERP is "down"
    const read = (await (await admin('erp', 'GET')).json()) as FaultView;
    expect(read.settings).toEqual(view.settings);
    expect((await fetch(`${sandbox.url}/erp/_sandbox/stats`)).status).toBe(200);
    expect(sandbox.faults.erp.get().settings?.seed).toBe(5);
    // the other system is untouched
    expect(((await (await admin('maintenance', 'GET')).json()) as FaultView).settings).toBeNull();
    expect(await statuses(1)).toEqual([200]);

    const bad = await admin('erp', 'PUT', { transient: { share: 2 } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^transient\.share: /);
    expect((await admin('erp', 'PUT', { nonsense: 1 })).status).toBe(400);
    expect(sandbox.faults.erp.get().settings?.seed).toBe(5); // a refused PUT changes nothing

    const cleared = (await (await admin('erp', 'DELETE')).json()) as FaultView;
    expect(cleared.settings).toBeNull();
    expect(() => sandbox.faults.erp.set({ latency: { min: 5, max: 1 } })).toThrow();
  });
});

// ---- flows against a misbehaving ERP -------------------------------------------------------------

const WORK_ORDERS = 120;

/** The example flow for a flaky ERP, with retries quicker than a real ERP wants (the waits a 429 asks for stay). */
function misbehavingFlow(tune: (nodes: Flow['nodes']) => void = () => {}): Flow {
  const doc = JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', 'misbehaving-erp.flow.json'), 'utf8'));
  for (const node of doc.nodes) {
    if (node.id === 'pause') node.params = { ms: 0 };
    if (node.id === 'erp-write') node.params.retry = { maxAttempts: 8, initialDelayMs: 50, maxDelayMs: 500 };
  }
  tune(doc.nodes);
  return validFlow(doc);
}

function workOrders() {
  const all = Array.from({ length: WORK_ORDERS }, (_, i) => workOrderAt(42, i));
  return {
    good: all.filter((w) => w.title && w.assetKey).map((w) => w.key),
    bad: all.filter((w) => !w.title || !w.assetKey).map((w) => w.key),
  };
}

describe('a run against a misbehaving ERP', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ workOrders: WORK_ORDERS });
  });
  afterAll(() => sandbox.close());

  it('with a rate limit and 10% 503s, writes every good work order exactly once; the incomplete ones fail with their 422 reason', async () => {
    sandbox.faults.erp.set({
      seed: 11,
      rateLimit: { requests: 40, windowMs: 1000 },
      transient: { share: 0.1 },
    });
    const store = new MemoryRunStore();
    const result = await startRun({
      runId: 'flaky',
      flow: misbehavingFlow(),
      clock: systemClock,
      runtime: nodeRuntime,
      store,
      connectors: createConnectors(sandbox.connections),
    }).done;
    const { good, bad } = workOrders();
    expect(result.status).toBe('succeeded');
    expect(result.counts).toMatchObject({ read: WORK_ORDERS, succeeded: good.length, failed: bad.length });
    const stats = sandbox.erpStats();
    expect(Object.keys(stats.writes).sort()).toEqual([...good].sort());
    for (const key of good) expect(stats.writes[key], key).toBe(1);
    const failed = store.byStatus('failed');
    expect(failed.map((o) => o.key).sort()).toEqual([...bad].sort());
    for (const o of failed) {
      expect(o.nodeId).toBe('erp-write');
      expect(o.error?.message).toBe(`HTTP 422: ${stats.rejections[o.key]}`);
    }
    expect(store.collected.filter((c) => c.nodeId === 'dead-letter')).toHaveLength(bad.length);
    const faulted = sandbox.faults.erp.get().stats.faulted;
    expect(faulted.rateLimit).toBeGreaterThan(0);
    expect(faulted.transient).toBeGreaterThan(5);
  }, 30_000);

  it('with expired credentials, fails at once before reading or writing anything, naming the connection', async () => {
    sandbox.faults.erp.set({ expiredCredentials: true });
    const before = sandbox.erpStats().accepted;
    const maintenanceBefore = sandbox.faults.maintenance.get().stats.requests;
    sandbox.faults.maintenance.set({});
    const started = performance.now();
    const result = await startRun({
      runId: 'expired',
      flow: misbehavingFlow(),
      clock: systemClock,
      runtime: nodeRuntime,
      store: new MemoryRunStore(),
      connectors: createConnectors(sandbox.connections),
    }).done;
    expect(result.status).toBe('failed');
    expect(result.error).toBe(
      'connection "erp-sandbox": the system refused the credentials (HTTP 401) — check its token',
    );
    expect(result.counts.read).toBe(0);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(sandbox.erpStats().accepted).toBe(before);
    // the maintenance system was only checked (one request), never read
    expect(sandbox.faults.maintenance.get().stats.requests).toBe(1);
    expect(maintenanceBefore).toBe(0);
    sandbox.faults.maintenance.clear();
    sandbox.faults.erp.clear();
  });

  it('a 401 in the middle of a run opens the breaker: the rest wait, nothing fails for it, all are written once it is cleared', async () => {
    const fresh = await startSandbox({ workOrders: WORK_ORDERS });
    try {
      // the token "expires" after 30 ERP requests (the check before the run is the first)
      fresh.faults.erp.set({ expiredCredentials: { afterRequests: 30 } });
      const connections = fresh.connections.map((c) =>
        c.name === 'erp-sandbox' ? { ...c, breaker: { failureThreshold: 5, cooldownMs: 300 } } : c,
      );
      const waits: RunEvent[] = [];
      const store = new MemoryRunStore();
      const run = startRun({
        runId: 'mid-run-401',
        flow: misbehavingFlow(),
        clock: systemClock,
        runtime: nodeRuntime,
        store,
        connectors: createConnectors(connections),
        onEvent: (e) => {
          if (e.type !== 'waiting' || !e.waiting) return;
          waits.push(e);
          // someone renews the token once the run has waited a while
          if (waits.length === 3) setTimeout(() => fresh.faults.erp.clear(), 200);
        },
      });
      const result = await run.done;
      const { good, bad } = workOrders();
      expect(result.status).toBe('succeeded');
      expect(result.counts).toMatchObject({ succeeded: good.length, failed: bad.length });
      expect(waits[0]).toMatchObject({
        waiting: { kind: 'breaker', connection: 'erp-sandbox', nodeId: 'erp-write' },
      });
      const stats = fresh.erpStats();
      for (const key of good) expect(stats.writes[key], key).toBe(1);
      for (const o of store.byStatus('failed')) expect(o.error?.httpStatus).toBe(422);
    } finally {
      await fresh.close();
    }
  }, 30_000);
});
