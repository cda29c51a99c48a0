import { describe, expect, it } from 'vitest';
import type { HttpRequest, HttpResponse } from '../ports.js';
import { startRun } from '../run.js';
import {
  chain,
  fakeConnectors,
  flowOf,
  json,
  MemoryRunStore,
  memoryLimits,
  SimulatedClock,
  testRuntime,
} from '../testing/index.js';

/** `n` records whose `asset` field cycles through `distinct` keys (A0, A1, …). */
const records = (n: number, distinct: number) =>
  Array.from({ length: n }, (_, i) => ({ key: `r${i}`, asset: `A${i % distinct}` }));

/** trigger → inline source → batch → http-lookup (params) → error branch → collect; `out` → collect. */
function lookupFlow(recs: Record<string, unknown>[], lookup: Record<string, unknown>) {
  return flowOf(
    [
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records', params: { records: recs, keyField: 'key' } },
      { id: 'batch', type: 'batch', params: { size: 100 } },
      {
        id: 'lookup',
        type: 'http-lookup',
        params: { connection: 'eam', retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 10 }, ...lookup },
      },
      { id: 'kept', type: 'collect' },
      { id: 'errors', type: 'error-branch' },
      { id: 'dead', type: 'collect' },
    ],
    [...chain('start', 'src', 'batch', 'lookup', 'kept'), ...chain('lookup:error', 'errors', 'dead')],
  );
}

async function run(flow: ReturnType<typeof lookupFlow>, handler: (request: HttpRequest) => HttpResponse) {
  const clock = new SimulatedClock(0);
  const store = new MemoryRunStore();
  const connectors = fakeConnectors(handler, { eam: { name: 'eam', baseUrl: 'http://eam.test', headers: {} } });
  const result = await clock.run(
    startRun({ runId: 'run1', flow, clock, runtime: testRuntime, store, connectors, random: () => 0.5 }).done,
  );
  const outputs = new Map(store.outcomes.map((o) => [o.key, o]));
  /** What the collect node kept of a record (the record as the lookup passed it on). */
  const output = (key: string) => (outputs.get(key)?.output ?? {}) as Record<string, unknown>;
  return { result, requests: connectors.requests, outputs, output };
}

/** An asset system: GET /assets/{key} and GET /assets?ids=a,b; keys listed in `missing` do not exist. */
function assets(missing: string[] = []) {
  const asset = (key: string) => ({ key, name: `asset ${key}`, site: `S${key.length}` });
  return (request: HttpRequest): HttpResponse => {
    const url = new URL(request.url);
    const one = /^\/assets\/([^/]+)$/.exec(url.pathname);
    if (one) {
      const key = decodeURIComponent(one[1] as string);
      return missing.includes(key)
        ? json(404, { error: { message: `asset ${key} does not exist` } })
        : json(200, { data: asset(key) });
    }
    const ids = (url.searchParams.get('ids') ?? '').split(',').filter((id) => !missing.includes(id));
    return json(200, { data: ids.map(asset) });
  };
}

describe('http-lookup', () => {
  it('looks each distinct URL up once per run, merges the answer at `into` and counts the cache hits', async () => {
    const recs = records(1000, 40);
    const { result, requests, output } = await run(
      lookupFlow(recs, { url: '/assets/{asset}', responsePath: 'data', into: 'details.asset' }),
      assets(),
    );
    expect(result.status).toBe('succeeded');
    expect(result.counts).toMatchObject({ read: 1000, succeeded: 1000, failed: 0 });
    expect(requests).toHaveLength(40);
    expect(new Set(requests.map((r) => r.url)).size).toBe(40);
    expect(requests.every((r) => r.method === 'GET')).toBe(true);
    expect(result.nodeCounts.lookup).toMatchObject({ in: 1000, out: 1000, error: 0, cacheHits: 960 });
    const r7 = output('r7');
    expect(r7).toEqual({ key: 'r7', asset: 'A7', details: { asset: { key: 'A7', name: 'asset A7', site: 'S2' } } });
  });

  it('in batch mode asks for groups of distinct keys as a list and matches the answers by key', async () => {
    const recs = records(1000, 120);
    const { result, requests, output } = await run(
      lookupFlow(recs, {
        url: '/assets',
        mode: 'batch',
        keyField: 'asset',
        batchSize: 50,
        resultsPath: 'data',
        resultKeyField: 'key',
        into: 'asset',
      }),
      assets(),
    );
    expect(result.counts).toMatchObject({ succeeded: 1000, failed: 0 });
    const asked = requests.flatMap((r) => (new URL(r.url).searchParams.get('ids') ?? '').split(','));
    // every key asked for once: batches of 100 records hold at most 100 distinct keys, in groups of ≤ 50
    expect(asked.sort()).toEqual(Array.from({ length: 120 }, (_, i) => `A${i}`).sort());
    expect(requests.every((r) => (new URL(r.url).searchParams.get('ids') ?? '').split(',').length <= 50)).toBe(true);
    expect(output('r125').asset).toEqual({
      key: 'A5',
      name: 'asset A5',
      site: 'S2',
    });
    expect(result.nodeCounts.lookup?.cacheHits).toBe(1000 - 120);
  });

  it('fails a record whose key is not found, or passes it on with null, as configured', async () => {
    const recs = records(10, 5); // A0..A4, A3 missing: records r3 and r8
    for (const mode of ['record', 'batch'] as const) {
      const params =
        mode === 'record'
          ? { url: '/assets/{asset}', responsePath: 'data', into: 'asset' }
          : { url: '/assets', mode, keyField: 'asset', resultsPath: 'data', resultKeyField: 'key', into: 'asset' };
      const failing = await run(lookupFlow(recs, { ...params, notFound: 'fail' }), assets(['A3']));
      expect(failing.result.counts, mode).toMatchObject({ succeeded: 8, failed: 2 });
      const failed = failing.outputs.get('r8');
      expect(failed?.status).toBe('failed');
      expect(failed?.nodeId).toBe('lookup');
      expect(failed?.error?.message).toMatch(mode === 'record' ? /^HTTP 404: asset A3 does not exist/ : /not found/);
      // a 404 is an answer, not a failure to retry: one request per distinct key
      if (mode === 'record') expect(failing.requests).toHaveLength(5);

      const passing = await run(lookupFlow(recs, { ...params, notFound: 'null' }), assets(['A3']));
      expect(passing.result.counts, mode).toMatchObject({ succeeded: 10, failed: 0 });
      expect(passing.output('r3').asset).toBeNull();
      expect((passing.output('r4').asset as { name: string }).name).toBe('asset A4');
    }
  });

  it('fails a record lacking the looked-up field alone, and does not keep an answer that failed', async () => {
    const recs = [{ key: 'a', asset: 'A1' }, { key: 'b' }, { key: 'c', asset: 'A1' }, { key: 'd', asset: 'A2' }];
    let calls = 0;
    const { result, outputs } = await run(
      lookupFlow(recs, { url: '/assets/{asset}', into: 'asset', cacheSize: 10, concurrency: 1 }),
      (request) => {
        calls++;
        return request.url.endsWith('/A2') ? json(500, { error: 'down' }) : json(200, { name: 'one' });
      },
    );
    expect(result.counts).toMatchObject({ succeeded: 2, failed: 2 });
    expect(outputs.get('b')?.error).toMatchObject({ code: 'url_template' });
    expect(outputs.get('d')?.error?.message).toMatch(/HTTP 500.*gave up after 2 attempts/);
    expect(calls).toBe(3); // A1 once, A2 twice (its retry)
  });

  it('retries like a write and keeps within the connection’s limits, whatever its concurrency', async () => {
    const clock = new SimulatedClock(0);
    const limits = memoryLimits(clock);
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    const handler = async (request: HttpRequest) => {
      const n = ++calls;
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 20));
      inFlight--;
      // the first answer for A1 is a 503: retried after its backoff, not failed
      if (request.url.endsWith('/A1') && n <= 2) return json(503, { error: 'busy' });
      return json(200, { name: request.url.slice(-2) });
    };
    const eam = { name: 'eam', baseUrl: 'http://eam.test', headers: {}, limits: { maxConcurrent: 2 } };
    const connectors = { ...fakeConnectors(handler, { eam }), limits };
    const flow = lookupFlow(records(60, 12), { url: '/assets/{asset}', into: 'asset', concurrency: 8 });
    const store = new MemoryRunStore();
    const result = await clock.run(
      startRun({ runId: 'run1', flow, clock, runtime: testRuntime, store, connectors, random: () => 0.5 }).done,
    );
    expect(result.counts).toMatchObject({ succeeded: 60, failed: 0 });
    expect(most).toBe(2);
    expect(calls).toBe(13); // 12 assets, one asked twice
    const a1 = store.outcomes.find((o) => o.key === 'r1');
    expect(a1?.attempts).toBe(2);
  });
});
