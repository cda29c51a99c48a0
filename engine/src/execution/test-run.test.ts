import { describe, expect, it } from 'vitest';
import { startRun } from '../run.js';
import { fakeConnectors, flowOf, json, MemoryRunStore, SimulatedClock, testRuntime } from '../testing/index.js';
import type { TestOptions } from './test-run.js';
import { maskHeaders } from './test-run.js';

const records = Array.from({ length: 50 }, (_, i) => ({ id: `R-${i}`, qty: i }));

/** generate-like source of 50 records → map → http write to a connection with a token. */
function flow() {
  return flowOf([
    { id: 'start', type: 'manual' },
    { id: 'src', type: 'inline-records', params: { records, keyField: 'id' } },
    { id: 'double', type: 'map', params: { fields: [{ name: 'qty', expression: 'qty * 2' }] } },
    { id: 'write', type: 'http-write', params: { connection: 'erp', url: '/orders/{id}', method: 'PUT' } },
  ]);
}

const connection = { erp: { name: 'erp', baseUrl: 'https://erp.test', headers: { authorization: 'Bearer s3cret' } } };

async function run(test: TestOptions | undefined, f = flow()) {
  const connectors = fakeConnectors(() => json(200, {}), connection);
  const clock = new SimulatedClock();
  const store = new MemoryRunStore();
  const result = await clock.run(
    startRun({ runId: 'r', clock, runtime: testRuntime, store, connectors, flow: f, ...(test ? { test } : {}) }).done,
  );
  return { result, connectors, store };
}

describe('test runs', () => {
  it('reads the first N records of a source and shows each node its input and output', async () => {
    const { result } = await run({ limit: 20 });
    expect(result.status).toBe('succeeded');
    expect(result.counts.read).toBe(20);
    const data = result.test ?? {};
    expect(data.double?.input).toHaveLength(20);
    expect(data.double?.output).toHaveLength(20);
    expect(data.double?.output[3]).toEqual({ id: 'R-3', qty: 6 });
    expect(data.double?.input[3]).toEqual({ id: 'R-3', qty: 3 });
    expect(data.src?.output).toHaveLength(20);
  });

  it('does not send writes: the write shows the request it would make, its secret masked', async () => {
    const { result, connectors } = await run({ limit: 5 });
    expect(connectors.requests).toHaveLength(0);
    const write = result.test?.write;
    expect(write?.dryRun).toBe(true);
    expect(write?.output).toHaveLength(5);
    expect(write?.output[0]).toMatchObject({
      method: 'PUT',
      url: 'https://erp.test/orders/R-0',
      headers: { authorization: 'Bearer ••••••', 'content-type': 'application/json' },
      body: { id: 'R-0', qty: 0 },
    });
    expect(JSON.stringify(write)).not.toContain('s3cret');
    expect(result.counts.succeeded).toBe(5);
  });

  it('shows a batch write as the requests it would make: the batch key, and each record’s own key', async () => {
    const batchFlow = flowOf([
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records', params: { records, keyField: 'id' } },
      {
        id: 'write',
        type: 'http-write',
        params: { connection: 'erp', url: '/orders/batch', mode: 'batch', batchSize: 2, recordKeyField: 'idem' },
      },
    ]);
    const { result, connectors } = await run({ limit: 3 }, batchFlow);
    expect(connectors.requests).toHaveLength(0);
    const requests = result.test?.write?.output as { headers: Record<string, string>; body: unknown }[];
    expect(requests.map((r) => r.body)).toEqual([
      [
        { id: 'R-0', qty: 0, idem: 'r:write:R-0' },
        { id: 'R-1', qty: 1, idem: 'r:write:R-1' },
      ],
      [{ id: 'R-2', qty: 2, idem: 'r:write:R-2' }],
    ]);
    expect(requests[0]?.headers['Idempotency-Key']).toMatch(/^r:write:R-0\.\.R-1:2:[0-9a-z]+$/);
  });

  it('does not write SQL rows either: a SQL write shows the rows it would write, and its port is never called', async () => {
    const sqlFlow = flowOf([
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records', params: { records, keyField: 'id' } },
      { id: 'rows', type: 'sql-write', params: { connection: 'db', table: 'orders', keyColumns: ['id'] } },
    ]);
    const { result } = await run({ limit: 2 }, sqlFlow);
    expect(result.test?.rows?.dryRun).toBe(true);
    expect(result.test?.rows?.output).toEqual([
      { table: 'orders', mode: 'upsert', row: { id: 'R-0', qty: 0 } },
      { table: 'orders', mode: 'upsert', row: { id: 'R-1', qty: 1 } },
    ]);
    expect(result.counts.succeeded).toBe(2); // the connectors here have no SQL port: nothing reached one
  });

  it('sends writes when the test asks for it', async () => {
    const { result, connectors } = await run({ limit: 3, sendWrites: true });
    expect(connectors.requests.map((r) => r.url)).toEqual([
      'https://erp.test/orders/R-0',
      'https://erp.test/orders/R-1',
      'https://erp.test/orders/R-2',
    ]);
    expect(result.test?.write?.dryRun).toBeUndefined();
  });

  it('starts from pinned data instead of calling the source', async () => {
    const pinned = { src: [{ id: 'P-1', qty: 10 }] };
    const { result } = await run({ limit: 20, pinned });
    expect(result.counts.read).toBe(1);
    expect(result.test?.src?.pinned).toBe(true);
    expect(result.test?.double?.output).toEqual([{ id: 'P-1', qty: 20 }]);
  });

  it('a real run ignores pinned data and captures nothing', async () => {
    const f = { ...flow(), pinned: { src: [{ id: 'P-1', qty: 10 }] } };
    const { result, connectors } = await run(undefined, f);
    expect(result.counts.read).toBe(50);
    expect(result.test).toBeUndefined();
    expect(connectors.requests).toHaveLength(50);
  });

  it('"test to here" runs only the node and what feeds it', async () => {
    const { result, connectors } = await run({ limit: 4, until: 'double', sendWrites: true });
    expect(connectors.requests).toHaveLength(0);
    expect(result.test?.double?.output).toHaveLength(4);
    expect(result.test?.write).toBeUndefined();
  });

  it('lists a record that fails with its reason', async () => {
    const f = flowOf([
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records', params: { records: [{ a: 1 }, { a: 'x' }] } },
      { id: 'm', type: 'map', params: { fields: [{ name: 'b', expression: 'a + 1' }] } },
    ]);
    const { result } = await run({ limit: 20 }, f);
    expect(result.test?.m?.failed.length).toBeGreaterThan(0);
    expect(result.test?.m?.failed[0]?.error).toEqual(expect.any(String));
  });

  it('masks secret headers, keeping the scheme', () => {
    expect(
      maskHeaders({ Authorization: 'Basic abc', 'X-API-Key': 'k', accept: 'json', 'Idempotency-Key': 'r:1' }),
    ).toEqual({
      Authorization: 'Basic ••••••',
      'X-API-Key': '••••••',
      accept: 'json',
      'Idempotency-Key': 'r:1',
    });
  });
});
