import { describe, expect, it } from 'vitest';
import type { HttpRequest } from './ports.js';
import { type RunOptions, startRun } from './run.js';
import {
  chain,
  fakeConnectors,
  flowOf,
  json,
  MemoryRunStore,
  SimulatedClock,
  sourceFlow,
  testRuntime,
} from './testing/index.js';

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `r${i}`, n: i }));

/** trigger → inline source → batch → delay → write → collect, with the write's error port to an error branch. */
function pipeline(n: number, size: number, ms: number) {
  return flowOf(
    [
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records', params: { records: records(n), keyField: 'key' } },
      { id: 'batch', type: 'batch', params: { size } },
      { id: 'wait', type: 'delay', params: { ms } },
      {
        id: 'write',
        type: 'http-write',
        params: { url: 'http://erp.test/orders', retry: { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1000 } },
      },
      { id: 'errors', type: 'error-branch' },
      { id: 'dead', type: 'collect' },
    ],
    [...chain('start', 'src', 'batch', 'wait', 'write'), ...chain('write:error', 'errors', 'dead')],
  );
}

function setup(handler: Parameters<typeof fakeConnectors>[0], extra: Partial<RunOptions> = {}) {
  const clock = new SimulatedClock(1_000_000);
  const store = new MemoryRunStore();
  const connectors = fakeConnectors(handler);
  return {
    clock,
    store,
    connectors,
    options: { runId: 'run1', clock, runtime: testRuntime, store, connectors, random: () => 0.5, ...extra },
  };
}

describe('a batch run', () => {
  it('cuts batches of the configured size, the last one short, and stores each record once', async () => {
    const { clock, store, options } = setup(() => json(201, { ok: true }));
    const run = startRun({ ...options, flow: pipeline(7, 3, 0) });
    const result = await clock.run(run.done);
    expect(result.status).toBe('succeeded');
    expect(store.batches.map((b) => [b.batchNo, b.size])).toEqual([
      [1, 3],
      [2, 3],
      [3, 1],
    ]);
    expect(store.outcomes.map((o) => [o.key, o.batchNo])).toEqual(
      records(7).map((r, i) => [r.key, Math.floor(i / 3) + 1]),
    );
    expect(result.counts).toEqual({ read: 7, succeeded: 7, filtered: 0, failed: 0, cancelled: 0 });
    expect(store.statuses.map((s) => s.status)).toEqual(['queued', 'running', 'succeeded']);
  });

  it('waits exactly the delay between the end of one batch and the start of the next', async () => {
    const sent: { key: string; at: number }[] = [];
    const { clock, store, options } = setup((_req: HttpRequest, body) => {
      sent.push({ key: (body as { key: string }).key, at: clock.now() });
      return json(201, {});
    });
    const started = clock.now();
    await clock.run(startRun({ ...options, flow: pipeline(10, 4, 2_500) }).done);
    expect(sent.map((s) => s.at - started)).toEqual([0, 0, 0, 0, 2500, 2500, 2500, 2500, 5000, 5000]);
    const [b1, b2, b3] = store.batches;
    // a batch starts when the delay lets it through, exactly the delay after the previous one finished
    expect(b2!.startedAt - b1!.finishedAt).toBe(2500);
    expect(b3!.startedAt - b2!.finishedAt).toBe(2500);
  });

  it('never starts a batch sooner than the delay even when a write is slow', async () => {
    const sent: number[] = [];
    const { clock, options } = setup(async () => {
      sent.push(clock.now());
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 700));
      return json(201, {});
    });
    const t0 = clock.now();
    await clock.run(startRun({ ...options, flow: pipeline(4, 2, 1000) }).done);
    // batch 1: writes at 0 and 700, ends at 1400; batch 2 starts 1000 ms later
    expect(sent.map((t) => t - t0)).toEqual([0, 700, 2400, 3100]);
  });

  it('routes rejected records through the error branch with the record, error, node and attempts', async () => {
    const { clock, store, options } = setup((_req, body) => {
      const n = (body as { n: number }).n;
      return n % 3 === 0 ? json(422, { error: { message: `field "assetKey" is required (${n})` } }) : json(201, {});
    });
    const result = await clock.run(startRun({ ...options, flow: pipeline(9, 4, 0) }).done);
    expect(result.counts).toEqual({ read: 9, succeeded: 6, filtered: 0, failed: 3, cancelled: 0 });
    const failed = store.byStatus('failed');
    expect(failed.map((o) => o.key)).toEqual(['r0', 'r3', 'r6']);
    expect(failed[1]).toMatchObject({
      nodeId: 'write',
      attempts: 1,
      error: { message: 'HTTP 422: field "assetKey" is required (3)', httpStatus: 422 },
      payload: { key: 'r3', n: 3 },
    });
    expect(store.collected.map((c) => c.data)).toContainEqual({
      key: 'r3',
      record: { key: 'r3', n: 3 },
      payload: { key: 'r3', n: 3 },
      error: { message: 'HTTP 422: field "assetKey" is required (3)', code: 'http_422', httpStatus: 422 },
      node: 'write',
      attempts: 1,
    });
    expect(result.nodeCounts.write).toEqual({ in: 9, out: 6, error: 3, filtered: 0 });
    expect(result.nodeCounts.errors).toEqual({ in: 3, out: 3, error: 0, filtered: 0 });
  });

  it('retries 503s with backoff and honours Retry-After on 429', async () => {
    const calls: number[] = [];
    const { clock, store, options } = setup(() => {
      calls.push(clock.now());
      if (calls.length === 1) return json(503, {}, {});
      if (calls.length === 2) return json(429, {}, { 'Retry-After': '7' });
      return json(201, {});
    });
    const t0 = clock.now();
    await clock.run(startRun({ ...options, flow: pipeline(1, 1, 0) }).done);
    // backoff after attempt 1 with random 0.5: 100 * (0.5 + 0.25) = 75; then Retry-After 7 s
    expect(calls.map((t) => t - t0)).toEqual([0, 75, 7075]);
    expect(store.outcomes[0]).toMatchObject({ status: 'succeeded', attempts: 3 });
  });

  it('gives up after the last attempt and says so', async () => {
    const { clock, store, options } = setup(() => json(500, { message: 'database is down' }));
    await clock.run(startRun({ ...options, flow: pipeline(1, 1, 0) }).done);
    expect(store.outcomes[0]).toMatchObject({
      status: 'failed',
      attempts: 3,
      error: { message: 'HTTP 500: database is down (gave up after 3 attempts)' },
    });
  });

  it('sends an idempotency key naming the run, the node and the record key', async () => {
    const { clock, connectors, options } = setup(() => json(201, {}));
    await clock.run(startRun({ ...options, flow: pipeline(2, 2, 0) }).done);
    expect(connectors.requests.map((r) => r.headers['Idempotency-Key'])).toEqual(['run1:write:r0', 'run1:write:r1']);
  });

  it('stops at the first unhandled failure when the flow says onError: stop', async () => {
    const flow = flowOf(
      [
        { id: 'start', type: 'manual' },
        { id: 'src', type: 'inline-records', params: { records: records(5), keyField: 'key' } },
        { id: 'write', type: 'http-write', params: { url: 'http://erp.test/x', retry: { maxAttempts: 1 } } },
      ],
      undefined,
      { settings: { onError: 'stop' } },
    );
    const { clock, store, options } = setup((_r, body) =>
      (body as { n: number }).n === 2 ? json(400, { message: 'bad' }) : json(200, {}),
    );
    const result = await clock.run(startRun({ ...options, flow }).done);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/record "r2" failed at node "write": HTTP 400: bad/);
    expect(store.outcomes.map((o) => `${o.key}:${o.status}`)).toEqual([
      'r0:succeeded',
      'r1:succeeded',
      'r2:failed',
      'r3:cancelled',
      'r4:cancelled',
    ]);
    expect(result.counts).toEqual({ read: 5, succeeded: 2, filtered: 0, failed: 1, cancelled: 2 });
  });

  it('cancels promptly during a delay and keeps what was settled', async () => {
    const { clock, store, options } = setup(() => json(201, {}));
    const run = startRun({ ...options, flow: pipeline(10, 2, 60_000) });
    await clock.advance(1000);
    expect(store.outcomes).toHaveLength(2);
    run.cancel();
    const result = await clock.run(run.done);
    expect(result.status).toBe('cancelled');
    // every record read is accounted for: 2 written, 8 read but not processed
    expect(result.counts).toEqual({ read: 10, succeeded: 2, filtered: 0, failed: 0, cancelled: 8 });
    expect(store.outcomes.filter((o) => o.status === 'cancelled')).toHaveLength(8);
    expect(store.byStatus('cancelled')[0]?.error?.code).toBe('not_processed');
    expect(clock.now()).toBeLessThan(1_000_000 + 60_000);
  });
});

describe('transforms', () => {
  const transformFlow = (fields: { name: string; expression: string }[], condition: string) =>
    flowOf(
      [
        { id: 'start', type: 'manual' },
        { id: 'src', type: 'inline-records', params: { records: records(6), keyField: 'key' } },
        { id: 'keep', type: 'filter', params: { condition } },
        { id: 'shape', type: 'map', params: { fields, keep: 'none' } },
        { id: 'out', type: 'collect' },
        { id: 'bad', type: 'collect' },
      ],
      [...chain('start', 'src', 'keep', 'shape', 'out'), ...chain('shape:error', 'bad')],
    );

  it('filters, maps with expressions, and fails only the record whose expression fails', async () => {
    const { clock, store, options } = setup(() => json(500, {}));
    const flow = transformFlow(
      [
        { name: 'id', expression: 'key' },
        { name: 'ratio', expression: 'n = 4 ? $error("n must not be 4") : 12 / n' },
        { name: 'meta.label', expression: '"#" & $string(n)' },
      ],
      'n > 0',
    );
    const result = await clock.run(startRun({ ...options, flow }).done);
    expect(result.counts).toEqual({ read: 6, succeeded: 4, filtered: 1, failed: 1, cancelled: 0 });
    expect(store.collected.filter((c) => c.nodeId === 'out').map((c) => c.data)).toEqual([
      { id: 'r1', ratio: 12, meta: { label: '#1' } },
      { id: 'r2', ratio: 6, meta: { label: '#2' } },
      { id: 'r3', ratio: 4, meta: { label: '#3' } },
      { id: 'r5', ratio: 2.4, meta: { label: '#5' } },
    ]);
    const failed = store.byStatus('failed')[0];
    expect(failed).toMatchObject({ key: 'r4', nodeId: 'shape', error: { code: 'expression' } });
    expect(failed?.error?.message).toContain('field "ratio"');
    expect(failed?.error?.message).toContain('n must not be 4');
    expect(store.byStatus('filtered')).toMatchObject([{ key: 'r0', nodeId: 'keep' }]);
    expect(result.nodeCounts.keep).toEqual({ in: 6, out: 5, error: 0, filtered: 1 });
  });

  it('branches records and fans one port out to two nodes without counting a record twice', async () => {
    const flow = flowOf(
      [
        { id: 'start', type: 'manual' },
        { id: 'src', type: 'inline-records', params: { records: records(4), keyField: 'key' } },
        { id: 'split', type: 'branch', params: { condition: 'n % 2 = 0' } },
        { id: 'even', type: 'collect' },
        { id: 'odd', type: 'collect' },
        { id: 'all', type: 'collect' },
      ],
      [
        ...chain('start', 'src', 'split'),
        ...chain('src', 'all'),
        ...chain('split:true', 'even'),
        ...chain('split:false', 'odd'),
      ],
    );
    const { clock, store, options } = setup(() => json(500, {}));
    const result = await clock.run(startRun({ ...options, flow }).done);
    expect(result.counts).toEqual({ read: 4, succeeded: 4, filtered: 0, failed: 0, cancelled: 0 });
    expect(store.outcomes).toHaveLength(4);
    expect(store.collected.filter((c) => c.nodeId === 'even').map((c) => c.key)).toEqual(['r0', 'r2']);
    expect(store.collected.filter((c) => c.nodeId === 'odd').map((c) => c.key)).toEqual(['r1', 'r3']);
  });

  it('gives each node a port fans out to the record as it left the port, whatever the first one does to it', async () => {
    const flow = flowOf(
      [
        { id: 'start', type: 'manual' },
        { id: 'src', type: 'inline-records', params: { records: records(2), keyField: 'key' } },
        { id: 'shape', type: 'map', params: { fields: [{ name: 'n', expression: 'n * 100' }] } },
        { id: 'mapped', type: 'collect' },
        { id: 'raw', type: 'collect' },
      ],
      [...chain('start', 'src', 'shape', 'mapped'), ...chain('src', 'raw')],
    );
    const { clock, store, options } = setup(() => json(500, {}));
    await clock.run(startRun({ ...options, flow }).done);
    const seen = (node: string) =>
      store.collected.filter((c) => c.nodeId === node).map((c) => (c.data as { n: number }).n);
    expect(seen('mapped')).toEqual([0, 100]);
    // the second branch is handed its copies before the first one's map replaces the records' data
    expect(seen('raw')).toEqual([0, 1]);
  });
});

describe('http source', () => {
  const eamSource = (pagination: Record<string, unknown>) =>
    sourceFlow('http-source', { connection: 'eam', url: '/wo', keyField: 'key', pageSize: 2, pagination });
  const connections = { eam: { name: 'eam', baseUrl: 'http://eam.test/api/', headers: { authorization: 'Bearer t' } } };

  it('follows continuation tokens to the last page, with the connection base URL and auth', async () => {
    const all = records(5);
    const clock = new SimulatedClock();
    const store = new MemoryRunStore();
    const connectors = fakeConnectors((req) => {
      const url = new URL(req.url);
      const from = Number(url.searchParams.get('continuation_token') ?? 0);
      const page = all.slice(from, from + 2);
      const next = from + 2 < all.length ? String(from + 2) : null;
      return json(200, { data: page, meta: { continuation_token: next } });
    }, connections);
    const result = await clock.run(
      startRun({ runId: 'r', clock, runtime: testRuntime, store, connectors, flow: eamSource({ type: 'token' }) }).done,
    );
    expect(result.counts.read).toBe(5);
    expect(store.collected.map((c) => c.key)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    expect(connectors.requests.map((r) => r.url)).toEqual([
      'http://eam.test/api/wo?limit=2',
      'http://eam.test/api/wo?limit=2&continuation_token=2',
      'http://eam.test/api/wo?limit=2&continuation_token=4',
    ]);
    expect(connectors.requests[0]?.headers.authorization).toBe('Bearer t');
  });

  it('fails the run with a clear message when the server repeats a token', async () => {
    const clock = new SimulatedClock();
    const store = new MemoryRunStore();
    const connectors = fakeConnectors(
      () => json(200, { data: [{ key: 'a' }], meta: { continuation_token: 'same' } }),
      connections,
    );
    const result = await clock.run(
      startRun({ runId: 'r', clock, runtime: testRuntime, store, connectors, flow: eamSource({ type: 'token' }) }).done,
    );
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/same next page twice/);
    expect(result.counts.read).toBe(2);
    expect(store.outcomes).toHaveLength(2);
  });

  it('reads one page ahead at most', async () => {
    const clock = new SimulatedClock();
    const store = new MemoryRunStore();
    let fetched = 0;
    let maxAhead = 0;
    const connectors = fakeConnectors((req) => {
      fetched++;
      maxAhead = Math.max(maxAhead, fetched * 2 - store.outcomes.length - 2);
      const from = Number(new URL(req.url).searchParams.get('continuation_token') ?? 0);
      return json(200, {
        data: records(100).slice(from, from + 2),
        meta: { continuation_token: from + 2 < 100 ? String(from + 2) : '' },
      });
    }, connections);
    await clock.run(
      startRun({ runId: 'r', clock, runtime: testRuntime, store, connectors, flow: eamSource({ type: 'token' }) }).done,
    );
    expect(store.outcomes).toHaveLength(100);
    expect(maxAhead).toBeLessThanOrEqual(2);
  });
});

describe('a webhook run', () => {
  const hookFlow = () =>
    flowOf(
      [
        { id: 'hook', type: 'webhook', params: { keyField: 'key' } },
        { id: 'batch', type: 'batch', params: { size: 2 } },
        { id: 'keep', type: 'filter', params: { condition: 'n % 3 != 0' } },
        { id: 'out', type: 'collect' },
      ],
      chain('hook', 'batch', 'keep', 'out'),
    );

  it('needs no separate source and reads the records it was started with, page by page', async () => {
    const posted = records(1203);
    const reads: number[] = [];
    const { clock, store, options } = setup(() => json(500, {}), {
      inputs: {
        read: (from, limit) => {
          reads.push(from);
          return posted.slice(from, from + limit);
        },
      },
    });
    const result = await clock.run(startRun({ ...options, flow: hookFlow() }).done);
    expect(result.status).toBe('succeeded');
    expect(result.counts).toEqual({ read: 1203, succeeded: 802, filtered: 401, failed: 0, cancelled: 0 });
    expect(reads).toEqual([0, 500, 1000, 1203]);
    expect(store.outcomes.map((o) => o.seq).sort((a, b) => a - b)).toEqual(posted.map((_, i) => i));
    expect(new Set(store.outcomes.map((o) => o.key))).toEqual(new Set(posted.map((r) => r.key)));
    expect(store.batches).toHaveLength(602);
  });

  it('reads nothing when started without records', async () => {
    const { clock, options } = setup(() => json(500, {}));
    const result = await clock.run(startRun({ ...options, flow: hookFlow() }).done);
    expect(result).toMatchObject({ status: 'succeeded', counts: { read: 0 } });
  });
});
