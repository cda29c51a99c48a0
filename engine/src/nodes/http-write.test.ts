import { describe, expect, it } from 'vitest';
import type { HttpRequest, HttpResponse } from '../ports.js';
import { startRun } from '../run.js';
import { chain, fakeConnectors, flowOf, json, MemoryRunStore, SimulatedClock, testRuntime } from '../testing/index.js';
import { batchKey } from './http-write.js';

interface Rec {
  key: string;
  n: number;
  title: string;
}

const records = (n: number, bad: number[] = []): Rec[] =>
  Array.from({ length: n }, (_, i) => ({ key: `r${i}`, n: i, title: bad.includes(i) ? '' : `t${i}` }));

/** trigger → inline source → batch (size) → http-write (batch mode, params) → error branch → collect. */
function batchFlow(recs: Rec[], size: number, write: Record<string, unknown> = {}) {
  return flowOf(
    [
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records', params: { records: recs, keyField: 'key' } },
      { id: 'batch', type: 'batch', params: { size } },
      {
        id: 'write',
        type: 'http-write',
        params: {
          connection: 'erp',
          url: '/orders/batch',
          mode: 'batch',
          retry: { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1000 },
          ...write,
        },
      },
      { id: 'errors', type: 'error-branch' },
      { id: 'dead', type: 'collect' },
    ],
    [...chain('start', 'src', 'batch', 'write'), ...chain('write:error', 'errors', 'dead')],
  );
}

async function run(
  flow: ReturnType<typeof batchFlow>,
  handler: (request: HttpRequest, body: unknown) => HttpResponse | Promise<HttpResponse>,
) {
  const clock = new SimulatedClock(0);
  const store = new MemoryRunStore();
  const connectors = fakeConnectors(handler, { erp: { name: 'erp', baseUrl: 'http://erp.test', headers: {} } });
  const result = await clock.run(
    startRun({ runId: 'run1', flow, clock, runtime: testRuntime, store, connectors, random: () => 0.5 }).done,
  );
  return { result, store, requests: connectors.requests, clock };
}

const itemsOf = (body: unknown) => (Array.isArray(body) ? body : (body as { items: Rec[] }).items) as Rec[];

/** A system that validates each record (title required) and answers per record, by position. */
function validatingSystem(written: Map<string, number>) {
  return (_req: HttpRequest, body: unknown) => {
    const results = itemsOf(body).map((r, index) => {
      if (!r.title)
        return { index, key: r.key, status: 422, error: { code: 'validation_failed', message: 'title is required' } };
      written.set(r.key, (written.get(r.key) ?? 0) + 1);
      return { index, key: r.key, status: 201, id: `ID-${r.key}` };
    });
    return json(results.some((r) => r.status !== 201) ? 207 : 200, { results });
  };
}

describe('http-write in batch mode', () => {
  it('sends each batch as one JSON array, or under bodyPath, with one idempotency key per batch', async () => {
    const recs = records(120);
    const plain = await run(batchFlow(recs, 50), () => json(200, {}));
    expect(plain.result.counts.succeeded).toBe(120);
    expect(plain.requests).toHaveLength(3);
    expect(plain.requests.map((r) => JSON.parse(r.body as string))).toEqual([
      recs.slice(0, 50),
      recs.slice(50, 100),
      recs.slice(100),
    ]);
    expect(plain.requests[0]?.url).toBe('http://erp.test/orders/batch');
    expect(plain.requests[0]?.method).toBe('POST');
    expect(plain.requests.map((r) => r.headers['Idempotency-Key'])).toEqual([
      expect.stringMatching(/^run1:write:r0\.\.r49:50:[0-9a-z]+$/),
      expect.stringMatching(/^run1:write:r50\.\.r99:50:[0-9a-z]+$/),
      expect.stringMatching(/^run1:write:r100\.\.r119:20:[0-9a-z]+$/),
    ]);

    const nested = await run(batchFlow(recs.slice(0, 10), 10, { bodyPath: 'items' }), () => json(201, {}));
    expect(JSON.parse(nested.requests[0]?.body as string)).toEqual({ items: recs.slice(0, 10) });
  });

  it('keys a batch by all its records: other records between the same first and last get another key', () => {
    const item = (key: string) => ({ key, seq: 0, data: {}, source: {}, batchNo: 1, attempts: 0, hops: [] });
    const a = batchKey('run1', 'write', ['r1', 'r2', 'r4'].map(item));
    expect(a).toBe(batchKey('run1', 'write', ['r1', 'r2', 'r4'].map(item)));
    expect(a).not.toBe(batchKey('run1', 'write', ['r1', 'r3', 'r4'].map(item)));
    expect(a).toMatch(/^run1:write:r1\.\.r4:3:[0-9a-z]+$/);
  });

  it('splits a group larger than batchSize into several requests', async () => {
    const { result, requests } = await run(batchFlow(records(50), 50, { batchSize: 20 }), () => json(200, {}));
    expect(result.counts.succeeded).toBe(50);
    expect(requests.map((r) => (JSON.parse(r.body as string) as unknown[]).length)).toEqual([20, 20, 10]);
  });

  it('fails alone the one record of 50 the system rejects, with its reason and the payload sent', async () => {
    const written = new Map<string, number>();
    const recs = records(50, [17]);
    const { result, store, requests } = await run(
      batchFlow(recs, 50, { bodyPath: 'items', resultsPath: 'results' }),
      validatingSystem(written),
    );
    expect(requests).toHaveLength(1);
    expect(result.counts).toMatchObject({ read: 50, succeeded: 49, failed: 1 });
    const failed = store.outcomes.filter((o) => o.status === 'failed');
    expect(failed).toEqual([
      expect.objectContaining({
        key: 'r17',
        nodeId: 'write',
        attempts: 1,
        error: { message: 'HTTP 422: title is required', code: 'http_422', httpStatus: 422 },
        payload: recs[17],
      }),
    ]);
    expect(written.size).toBe(49);
    expect(store.collected.map((c) => c.key)).toEqual(['r17']);
  });

  it('matches results by resultKeyField when the system answers them out of order', async () => {
    const recs = records(6, [1, 4]);
    const { result, store } = await run(
      batchFlow(recs, 6, { resultsPath: 'data.results', resultKeyField: 'key', resultErrorPath: 'reason' }),
      (_req, body) => {
        const results = itemsOf(body)
          .map((r) => (r.title ? { key: r.key, ok: true } : { key: r.key, ok: false, reason: 'no title' }))
          .reverse();
        return json(200, { data: { results } });
      },
    );
    expect(result.counts).toMatchObject({ succeeded: 4, failed: 2 });
    expect(store.outcomes.filter((o) => o.status === 'failed').map((o) => [o.key, o.error])).toEqual([
      ['r1', { message: 'no title', code: 'batch_record_failed' }],
      ['r4', { message: 'no title', code: 'batch_record_failed' }],
    ]);
  });

  it('fails a record the response reports nothing about', async () => {
    const { result, store } = await run(batchFlow(records(3), 3, { resultsPath: 'results' }), () =>
      json(200, { results: [{ status: 201 }, { status: 201 }] }),
    );
    expect(result.counts).toMatchObject({ succeeded: 2, failed: 1 });
    expect(store.outcomes.find((o) => o.status === 'failed')?.error?.code).toBe('batch_result_missing');
  });

  it('fails every record of a batch the system rejects whole with 422, with the reason, without retrying', async () => {
    const recs = records(50);
    const { result, store, requests } = await run(batchFlow(recs, 50, { resultsPath: 'results' }), () =>
      json(422, { error: { code: 'bad_batch', message: 'items: too many lines' } }),
    );
    expect(requests).toHaveLength(1);
    expect(result.counts).toMatchObject({ succeeded: 0, failed: 50 });
    const failed = store.outcomes.filter((o) => o.status === 'failed');
    expect(failed.map((o) => o.key)).toEqual(recs.map((r) => r.key));
    for (const [i, o] of failed.entries()) {
      expect(o.error).toEqual({ message: 'HTTP 422: items: too many lines', code: 'http_422', httpStatus: 422 });
      expect(o.payload).toEqual(recs[i]);
      expect(o.attempts).toBe(1);
    }
  });

  it('retries the whole batch after a 503 (same idempotency key) and writes each record once', async () => {
    const written = new Map<string, number>();
    const system = validatingSystem(written);
    let calls = 0;
    const { result, store, requests } = await run(
      batchFlow(records(50, [3]), 50, { resultsPath: 'results' }),
      (req, body) => {
        calls++;
        if (calls === 1) return json(503, { error: 'maintenance' }, { 'retry-after': '2' });
        return system(req, body);
      },
    );
    expect(requests).toHaveLength(2);
    expect(requests[0]?.headers['Idempotency-Key']).toBe(requests[1]?.headers['Idempotency-Key']);
    expect(requests[1]?.body).toBe(requests[0]?.body);
    expect(result.counts).toMatchObject({ succeeded: 49, failed: 1 });
    expect([...written.values()].every((n) => n === 1)).toBe(true);
    expect(written.size).toBe(49);
    expect(store.outcomes.every((o) => o.attempts === 2)).toBe(true);
    expect(store.outcomes.find((o) => o.status === 'failed')?.error?.message).toBe('HTTP 422: title is required');
  });

  it('fails the whole batch once retries of a retryable status run out', async () => {
    const { result, store, requests } = await run(batchFlow(records(5), 5), () => json(429, { message: 'slow down' }));
    expect(requests).toHaveLength(3);
    expect(result.counts).toMatchObject({ failed: 5 });
    expect(store.outcomes[0]?.error?.message).toBe('HTTP 429: slow down (gave up after 3 attempts)');
  });

  it('counts only the configured successStatuses as written', async () => {
    const only207 = await run(batchFlow(records(4), 4, { successStatuses: [207] }), () => json(200, {}));
    expect(only207.result.counts).toMatchObject({ succeeded: 0, failed: 4 });
    expect(only207.requests).toHaveLength(1);
    expect(only207.store.outcomes[0]?.error).toMatchObject({ code: 'http_200', httpStatus: 200 });

    const conflictIsFine = await run(
      batchFlow(records(4, [2]), 4, { successStatuses: [200, 409], resultsPath: 'results' }),
      (_req, body) =>
        json(409, {
          results: itemsOf(body).map((r) =>
            r.title ? { status: 'created' } : { status: 'rejected', error: 'duplicate title' },
          ),
        }),
    );
    expect(conflictIsFine.result.counts).toMatchObject({ succeeded: 3, failed: 1 });
    expect(conflictIsFine.store.outcomes.find((o) => o.status === 'failed')?.error?.message).toBe('duplicate title');
  });

  it('with recordKeyField, gives each record of the body its own key, so a run that cuts them differently again writes none twice', async () => {
    const recs = records(10, [4]);
    const written = new Map<string, number>();
    const byRecordKey = new Map<string, object>();
    // a system that honours per-record keys: a record whose key it has seen gets its first result
    const system = (_req: HttpRequest, body: unknown) => {
      const items = itemsOf(body) as (Rec & { idem: string })[];
      const results = items.map((r, index) => {
        const earlier = byRecordKey.get(r.idem);
        if (earlier) return { ...earlier, index };
        const result = r.title
          ? { index, key: r.key, status: 201 }
          : { index, key: r.key, status: 422, error: { message: 'title is required' } };
        if (r.title) written.set(r.key, (written.get(r.key) ?? 0) + 1);
        byRecordKey.set(r.idem, result);
        return result;
      });
      return json(207, { results });
    };
    const params = { recordKeyField: 'idem', resultsPath: 'results', successStatuses: [207] };
    const first = await run(batchFlow(recs.slice(0, 7), 7, { ...params, batchSize: 4 }), system);
    expect(JSON.parse(first.requests[0]?.body as string)[1]).toEqual({ ...recs[1], idem: 'run1:write:r1' });
    expect(first.requests.map((r) => r.headers['Idempotency-Key'])).toEqual([
      expect.stringMatching(/^run1:write:r0\.\.r3:4:/),
      expect.stringMatching(/^run1:write:r4\.\.r6:3:/),
    ]);
    // the same run again (as a resumed run would), its records grouped otherwise: new request keys
    const again = await run(batchFlow(recs, 3, params), system);
    expect(again.requests[0]?.headers['Idempotency-Key']).toMatch(/^run1:write:r0\.\.r2:3:/);
    expect(again.result.counts).toMatchObject({ succeeded: 9, failed: 1 });
    expect(again.store.outcomes.find((o) => o.status === 'failed')?.error?.message).toBe('HTTP 422: title is required');
    expect([...written.keys()].sort()).toEqual(
      recs
        .filter((r) => r.title)
        .map((r) => r.key)
        .sort(),
    );
    expect([...written.values()].every((n) => n === 1)).toBe(true);
  });

  it('leaves record mode as it was: one request per record, keyed by the record', async () => {
    const flow = batchFlow(records(3), 3, { mode: 'record', url: '/orders' });
    const { result, requests } = await run(flow, () => json(201, {}));
    expect(result.counts.succeeded).toBe(3);
    expect(requests.map((r) => [r.url, r.headers['Idempotency-Key'], JSON.parse(r.body as string).key])).toEqual([
      ['http://erp.test/orders', 'run1:write:r0', 'r0'],
      ['http://erp.test/orders', 'run1:write:r1', 'r1'],
      ['http://erp.test/orders', 'run1:write:r2', 'r2'],
    ]);
  });
});

describe('a URL filled from the record', () => {
  it('puts each record to its own address, URL-encoded, and fails a record that lacks the value', async () => {
    const recs = [
      { key: 'a/1', n: 1, title: 'x' },
      { key: 'b 2', n: 2, title: 'y' },
    ];
    const flow = batchFlow(recs as Rec[], 10, { mode: 'record', method: 'PUT', url: '/orders/{key}/lines/{n}' });
    const { result, requests, store } = await run(flow, () => json(200, {}));
    expect(result.counts).toMatchObject({ read: 2, succeeded: 2 });
    expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'PUT http://erp.test/orders/a%2F1/lines/1',
      'PUT http://erp.test/orders/b%202/lines/2',
    ]);
    const missing = batchFlow(recs as Rec[], 10, { mode: 'record', url: '/orders/{title}/{owner.id}' });
    const second = await run(missing, () => json(200, {}));
    expect(second.result.counts).toMatchObject({ read: 2, failed: 2 });
    expect(second.requests).toHaveLength(0);
    expect(second.store.byStatus('failed')[0]?.error).toEqual({
      message: 'url: the record has no value for {owner.id}',
      code: 'url_template',
    });
    expect(store.byStatus('failed')).toHaveLength(0);
  });
});

describe('where a request comes from', () => {
  it('names its run, node and batch, so a server can hang its span under them', async () => {
    const written = new Map<string, number>();
    const batched = await run(batchFlow(records(5), 2), validatingSystem(written));
    expect(batched.requests.map((r) => r.origin)).toEqual(
      [1, 2, 3].map((batchNo) => ({ runId: 'run1', nodeId: 'write', batchNo })),
    );

    // record mode: one request per record, each with its record's batch
    const single = await run(batchFlow(records(3), 2, { url: '/orders', mode: 'record' }), () => json(201, {}));
    expect(single.requests.map((r) => r.origin?.batchNo)).toEqual([1, 1, 2]);
    expect(new Set(single.requests.map((r) => `${r.origin?.runId}/${r.origin?.nodeId}`))).toEqual(
      new Set(['run1/write']),
    );
  });

  it('says how many times a request went out before (a retry)', async () => {
    let calls = 0;
    const retried = await run(batchFlow(records(1), 2, { url: '/orders', mode: 'record' }), () =>
      ++calls < 3 ? json(503, {}) : json(201, {}),
    );
    expect(retried.requests.map((r) => r.origin?.resends)).toEqual([undefined, 1, 2]);
    expect(retried.requests.every((r) => r.origin?.batchNo === 1)).toBe(true);
  });
});
