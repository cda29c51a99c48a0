import { type Checkpoint, type HttpClient, startRun } from '@sluice/engine';
import { MemoryRunStore, resumeFrom, sourceFlow } from '@sluice/engine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectors, fetchHttpClient } from '../connectors.js';
import { nodeRuntime, systemClock } from '../node-runtime.js';
import { workOrderAt } from './data.js';
import { type Sandbox, startSandbox } from './index.js';

const TOTAL = 1234;
const expected = Array.from({ length: TOTAL }, (_, i) => workOrderAt(42, i).key);
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ workOrders: TOTAL });
});
afterAll(() => sandbox.close());

/** start → an HTTP source reading the sandbox's work orders (these params on top) → collect. */
const workOrderSource = (params: Record<string, unknown>) =>
  sourceFlow('http-source', {
    connection: 'maintenance-sandbox',
    url: '/api/eam/work-orders',
    keyField: 'key',
    pageSize: 100,
    ...params,
  });

/** Runs source → collect against the sandbox over loopback; returns what was read and asked. */
async function read(params: Record<string, unknown>, checkpoint?: Checkpoint) {
  const urls: string[] = [];
  const http: HttpClient = (req) => {
    // page requests only: they all ask for 100 records (a connection check before the run may ask for 1)
    if ([...new URL(req.url).searchParams.values()].includes('100')) urls.push(req.url.slice(sandbox.url.length));
    return fetchHttpClient(req);
  };
  const store = new MemoryRunStore();
  const result = await startRun({
    runId: 'paging',
    flow: workOrderSource(params),
    clock: systemClock,
    runtime: nodeRuntime,
    store,
    connectors: createConnectors(sandbox.connections, http),
    ...(checkpoint ? { resume: resumeFrom(checkpoint) } : {}),
  }).done;
  return { result, store, keys: store.collected.map((c) => c.key), urls };
}

const strategies: [string, Record<string, unknown>][] = [
  ['token (body path, the default endpoint)', { pagination: { type: 'token' } }],
  ['token (paging=token)', { query: { paging: 'token' }, pagination: { type: 'token' } }],
  [
    'token (in a response header)',
    { query: { paging: 'token-header' }, pagination: { type: 'token', tokenHeader: 'X-Continuation-Token' } },
  ],
  [
    'token (sent in a POST body)',
    { url: '/api/eam/work-orders/search', method: 'POST', pagination: { type: 'token', send: 'body' } },
  ],
  ['page (links.next)', { query: { paging: 'page' }, pagination: { type: 'page' } }],
  ['page (meta.last_page only)', { query: { paging: 'page-meta' }, pagination: { type: 'page' } }],
  [
    'link-header',
    { query: { paging: 'link' }, pageSizeParam: 'per_page', recordsPath: 'items', pagination: { type: 'link-header' } },
  ],
  ['offset', { query: { paging: 'offset' }, pagination: { type: 'offset' } }],
];

describe('http source paging against the sandbox maintenance system', () => {
  it.each(strategies)('%s: reads all 1,234 work orders exactly once and stops at the last page', async (_, params) => {
    const { result, keys, urls } = await read(params);
    expect(result.status).toBe('succeeded');
    expect(result.counts.read).toBe(TOTAL);
    expect(keys).toEqual(expected);
    expect(new Set(keys).size).toBe(TOTAL);
    expect(urls).toHaveLength(13); // 12 full pages and one of 34: no request after the last page
  });

  it('reads a single request with no paging', async () => {
    const { result, keys, urls } = await read({ pagination: { type: 'none' } });
    expect(result.status).toBe('succeeded');
    expect(keys).toEqual(expected.slice(0, 100));
    expect(urls).toEqual(['/maintenance/api/eam/work-orders?limit=100']);
  });

  it.each([
    ['token', { query: { broken: 'repeat' }, pagination: { type: 'token' } }, /\(token "[\w-]+"\)/],
    [
      'token',
      {
        url: '/api/eam/work-orders/search?broken=repeat',
        method: 'POST',
        pagination: { type: 'token', send: 'body' },
      },
      /\(token "[\w-]+"\)/,
    ],
    ['page', { query: { paging: 'page', broken: 'repeat' }, pagination: { type: 'page' } }, /\(URL http:\/\/\S+page=2/],
    [
      'link-header',
      {
        query: { paging: 'link', broken: 'repeat' },
        pageSizeParam: 'per_page',
        recordsPath: 'items',
        pagination: { type: 'link-header' },
      },
      /\(URL http:\/\/\S+page=2/,
    ],
  ] as const)('fails the run when the %s strategy is sent a repeating next page', async (strategy, params, value) => {
    const { result, keys, urls } = await read(params);
    expect(result.status).toBe('failed');
    expect(result.error).toContain(`source "src" (${strategy} pagination): the server sent the same next page twice`);
    expect(result.error).toMatch(value);
    expect(keys).toEqual(expected.slice(0, 200)); // both pages read are kept
    expect(urls).toHaveLength(2);
  });

  it('resumes a page-strategy run from a checkpoint in the middle, re-reading from the right page', async () => {
    const params = { query: { paging: 'page' }, pagination: { type: 'page' } };
    const first = await read(params);
    const middle = first.store.commits.find((c) => (c.checkpoint.position?.firstSeq ?? 0) >= 500);
    const checkpoint = middle?.checkpoint;
    expect(checkpoint?.position?.cursor).toMatchObject({ page: 6, url: expect.stringContaining('page=6') });
    if (!checkpoint?.position) throw new Error('no checkpoint in the middle of the run');

    const resumed = await read(params, checkpoint);
    expect(resumed.result.status).toBe('succeeded');
    expect(resumed.urls[0]).toContain('page=6');
    expect(resumed.urls).toHaveLength(8); // pages 6 to 13
    expect(resumed.keys).toEqual(expected.slice(checkpoint.lowWater));
    expect(resumed.result.counts.read).toBe(TOTAL);
  });
});
