import { describe, expect, it } from 'vitest';
import { type Checkpoint, compareWatermarks, type HttpRequest, laterWatermark, type Watermarks } from '../ports.js';
import { startRun } from '../run.js';
import {
  fakeConnectors,
  json,
  MemoryRunStore,
  resumeFrom,
  SimulatedClock,
  sourceFlow,
  testRuntime,
} from '../testing/index.js';

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();
const connections = { api: { name: 'api', baseUrl: 'http://api.test/v1', headers: {} } };

/** start → an incremental HTTP source on the "api" connection, offset paging (these params on top) → collect. */
const incrementalSource = (params: Record<string, unknown>) =>
  sourceFlow('http-source', {
    connection: 'api',
    url: '/items',
    keyField: 'key',
    pageSize: 10,
    pagination: { type: 'offset' },
    incremental: { field: 'updatedAt', param: 'modified_after' },
    ...params,
  });

/** A system whose list honours `modified_after` (strictly after), oldest change first, offset paging. */
function system(records: { key: string; updatedAt: string | number }[]) {
  return (req: HttpRequest) => {
    const u = new URL(req.url);
    const after = u.searchParams.get('modified_after');
    const offset = Number(u.searchParams.get('offset') ?? 0);
    const limit = Number(u.searchParams.get('limit') ?? 10);
    const changed = records
      .filter((r) => after === null || compareWatermarks(String(r.updatedAt), after) > 0)
      .sort((a, b) => compareWatermarks(String(a.updatedAt), String(b.updatedAt)));
    return json(200, { data: changed.slice(offset, offset + limit) });
  };
}

async function run(
  records: { key: string; updatedAt: string | number }[],
  options: { watermarks?: Watermarks; params?: Record<string, unknown>; checkpoint?: Checkpoint } = {},
) {
  const clock = new SimulatedClock();
  const store = new MemoryRunStore();
  const connectors = fakeConnectors(system(records), connections);
  const cp = options.checkpoint;
  const resume = cp && resumeFrom(cp);
  const result = await clock.run(
    startRun({
      runId: 'r',
      clock,
      runtime: testRuntime,
      store,
      connectors,
      flow: incrementalSource(options.params ?? {}),
      ...(options.watermarks ? { watermarks: options.watermarks } : {}),
      ...(resume ? { resume } : {}),
    }).done,
  );
  const params = connectors.requests.map((r) => new URL(r.url).searchParams.get('modified_after'));
  return { result, store, keys: store.collected.map((c) => c.key), params };
}

const records = Array.from({ length: 25 }, (_, i) => ({ key: `r${i}`, updatedAt: at(i) }));

describe('http source: incremental sync', () => {
  it('reads everything on the first run and reports the largest value read', async () => {
    const { result, keys, params } = await run(records);
    expect(result.status).toBe('succeeded');
    expect(keys).toHaveLength(25);
    expect(params).toEqual([null, null, null]);
    expect(result.watermarks).toEqual({ src: at(24) });
  });

  it('sends the stored watermark on every page and reads only what changed after it', async () => {
    const changed = records.map((r, i) => (i % 2 === 0 ? { ...r, updatedAt: at(100 + i) } : r));
    const { result, keys, params } = await run(changed, { watermarks: { src: at(24) } });
    expect(result.status).toBe('succeeded');
    expect(keys).toEqual(records.filter((_, i) => i % 2 === 0).map((r) => r.key));
    expect(params).toEqual([at(24), at(24)]);
    expect(result.watermarks).toEqual({ src: at(124) });
  });

  it('keeps the watermark when nothing changed', async () => {
    const { result, keys, params } = await run(records, { watermarks: { src: at(24) } });
    expect(keys).toEqual([]);
    expect(params).toEqual([at(24)]);
    expect(result.watermarks).toEqual({ src: at(24) });
  });

  it('starts from `initial` when there is no stored watermark', async () => {
    const { keys, params, result } = await run(records, {
      params: { incremental: { field: 'updatedAt', param: 'modified_after', initial: at(19) } },
    });
    expect(keys).toEqual(['r20', 'r21', 'r22', 'r23', 'r24']);
    expect(params).toEqual([at(19)]);
    expect(result.watermarks).toEqual({ src: at(24) });
  });

  it('compares numbers as numbers', async () => {
    const numeric = Array.from({ length: 12 }, (_, i) => ({ key: `n${i}`, updatedAt: i }));
    const first = await run(numeric);
    expect(first.result.watermarks).toEqual({ src: '11' });
    const second = await run(numeric, { watermarks: { src: '9' } });
    expect(second.keys).toEqual(['n10', 'n11']);
  });

  it('reports no watermark for a source without incremental', async () => {
    const { result, params } = await run(records, { params: { incremental: undefined } });
    expect(result.watermarks).toBeUndefined();
    expect(params.every((p) => p === null)).toBe(true);
  });

  it('a resumed run keeps the largest value read before the interruption', async () => {
    // the interrupted run started from at(4) and had read up to at(30) (a record since changed again)
    const checkpoint: Checkpoint = {
      version: 1,
      lowWater: 10,
      nextBatch: 1,
      sourcesDone: [],
      position: {
        nodeId: 'src',
        cursor: { url: 'http://api.test/v1/items?limit=10&offset=10', offset: 10 },
        firstSeq: 10,
      },
      nodeState: { src: { watermarkFrom: at(4), watermark: at(30) } },
      breakers: {},
    };
    const { result, keys, params } = await run(records, { watermarks: { src: at(4) }, checkpoint });
    expect(result.status).toBe('succeeded');
    expect(keys).toEqual(records.slice(15).map((r) => r.key));
    expect(params).toEqual([at(4), at(4)]);
    expect(result.watermarks).toEqual({ src: at(30) });
  });

  it('carries the watermark in every checkpoint', async () => {
    const { store } = await run(records);
    const states = store.commits.map((c) => c.checkpoint.nodeState.src as { watermark?: string });
    expect(states.at(-1)?.watermark).toBe(at(24));
  });

  it('reports the largest value read also when the run fails (the caller does not store it)', async () => {
    const clock = new SimulatedClock();
    const store = new MemoryRunStore();
    const connectors = fakeConnectors((req) => {
      const offset = Number(new URL(req.url).searchParams.get('offset') ?? 0);
      if (offset >= 10) return json(200, { data: 'not a list' });
      return system(records)(req);
    }, connections);
    const result = await clock.run(
      startRun({ runId: 'r', clock, runtime: testRuntime, store, connectors, flow: incrementalSource({}) }).done,
    );
    expect(result.status).toBe('failed');
    expect(result.watermarks).toEqual({ src: at(9) });
  });
});

describe('watermark order', () => {
  it('orders numbers, ISO times and other strings', () => {
    expect(compareWatermarks('10', '9')).toBeGreaterThan(0);
    expect(compareWatermarks('2026-01-01T00:00:00.5Z', '2026-01-01T00:00:00Z')).toBeGreaterThan(0);
    expect(compareWatermarks('2026-01-01T01:00:00+02:00', '2026-01-01T00:00:00Z')).toBeLessThan(0);
    expect(compareWatermarks('b', 'a')).toBeGreaterThan(0);
    expect(laterWatermark(undefined, 'x')).toBe('x');
    expect(laterWatermark('2026-02-01', '2026-01-31T23:59:59Z')).toBe('2026-02-01');
  });
});
