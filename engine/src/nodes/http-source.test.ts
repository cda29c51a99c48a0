import { describe, expect, it } from 'vitest';
import type { Checkpoint, HttpRequest, HttpResponse } from '../ports.js';
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
import { linkTarget } from './http-source.js';

const all = Array.from({ length: 25 }, (_, i) => ({ key: `r${i}`, n: i }));
const connections = { api: { name: 'api', baseUrl: 'http://api.test/v1', headers: { authorization: 'Bearer t' } } };

/** start → an HTTP source on the "api" connection (these params on top) → collect. */
const apiSource = (params: Record<string, unknown>) =>
  sourceFlow('http-source', { connection: 'api', url: '/items', keyField: 'key', ...params });

async function run(
  params: Record<string, unknown>,
  handler: (req: HttpRequest, body: unknown) => HttpResponse,
  checkpoint?: Checkpoint,
) {
  const clock = new SimulatedClock();
  const store = new MemoryRunStore();
  const connectors = fakeConnectors(handler, connections);
  const resume = checkpoint && resumeFrom(checkpoint);
  const result = await clock.run(
    startRun({
      runId: 'r',
      clock,
      runtime: testRuntime,
      store,
      connectors,
      flow: apiSource(params),
      ...(resume ? { resume } : {}),
    }).done,
  );
  const keys = store.collected.map((c) => c.key);
  const urls = connectors.requests.map((r) => r.url.replace('http://api.test/v1/items', ''));
  return { result, store, keys, urls, requests: connectors.requests };
}

const q = (req: HttpRequest, name: string) => new URL(req.url).searchParams.get(name);
const keysOf = (from: number, to: number) => all.slice(from, to).map((r) => r.key);

describe('http source: token pagination', () => {
  it('reads the next token from a response header', async () => {
    const { result, keys, urls } = await run(
      { pageSize: 10, pagination: { type: 'token', tokenHeader: 'X-Next', tokenParam: 'cursor' } },
      (req) => {
        const from = Number(q(req, 'cursor') ?? 0);
        const headers: Record<string, string> = from + 10 < all.length ? { 'x-next': String(from + 10) } : {};
        return json(200, { data: all.slice(from, from + 10) }, headers);
      },
    );
    expect(result.status).toBe('succeeded');
    expect(keys).toEqual(keysOf(0, 25));
    expect(urls).toEqual(['?limit=10', '?limit=10&cursor=10', '?limit=10&cursor=20']);
  });

  it('sends the token as a body field of a POST source, with the fixed body', async () => {
    const { result, keys, requests } = await run(
      {
        method: 'POST',
        body: { status: 'open' },
        pageSize: 10,
        pagination: { type: 'token', send: 'body', tokenParam: 'next_token', tokenPath: 'paging.next' },
      },
      (_req, body) => {
        const from = Number((body as { next_token?: string }).next_token ?? 0);
        return json(200, {
          data: all.slice(from, from + 10),
          paging: { next: from + 10 < 25 ? String(from + 10) : null },
        });
      },
    );
    expect(result.status).toBe('succeeded');
    expect(keys).toEqual(keysOf(0, 25));
    expect(requests.map((r) => [r.method, r.url, r.body])).toEqual([
      ['POST', 'http://api.test/v1/items?limit=10', '{"status":"open"}'],
      ['POST', 'http://api.test/v1/items?limit=10', '{"status":"open","next_token":"10"}'],
      ['POST', 'http://api.test/v1/items?limit=10', '{"status":"open","next_token":"20"}'],
    ]);
    expect(requests[0]?.headers['content-type']).toBe('application/json');
  });

  it('refuses a token sent in the body of a GET source', () => {
    expect(() => apiSource({ pagination: { type: 'token', send: 'body' } })).toThrow(/POST/);
  });

  it('fails naming the strategy and the token when a header token repeats', async () => {
    const { result, keys } = await run({ pagination: { type: 'token', tokenHeader: 'x-next' } }, () =>
      json(200, { data: [{ key: 'a' }] }, { 'x-next': 'again' }),
    );
    expect(result.status).toBe('failed');
    expect(result.error).toBe(
      'source "src" (token pagination): the server sent the same next page twice (token "again"); stopping instead of looping',
    );
    expect(keys).toEqual(['a', 'a']);
  });
});

describe('http source: page pagination', () => {
  const pageParams = (extra: Record<string, unknown> = {}) => ({
    pageSize: 10,
    pagination: { type: 'page', ...extra },
  });
  const slice = (req: HttpRequest) => {
    const page = Number(q(req, 'page'));
    const per = Number(q(req, 'per_page'));
    return { page, per, data: all.slice((page - 1) * per, page * per), last: Math.ceil(all.length / per) };
  };

  it('follows links.next and stops when it is null', async () => {
    const { result, keys, urls } = await run(pageParams(), (req) => {
      const { page, data, last } = slice(req);
      const next = page < last ? `/v1/items?page=${page + 1}&per_page=10` : null;
      return json(200, { data, links: { next }, meta: { last_page: 99 } });
    });
    expect(result.status).toBe('succeeded');
    expect(keys).toEqual(keysOf(0, 25));
    expect(urls).toEqual(['?page=1&per_page=10', '?page=2&per_page=10', '?page=3&per_page=10']);
  });

  it('without a next link counts pages up to meta.last_page', async () => {
    const { result, keys, urls } = await run(pageParams(), (req) => {
      const { page, data } = slice(req);
      return json(200, { data, meta: { last_page: page === 1 ? '2' : 2 } }); // a number as text counts too
    });
    expect(result.status).toBe('succeeded');
    expect(keys).toEqual(keysOf(0, 20));
    expect(urls).toEqual(['?page=1&per_page=10', '?page=2&per_page=10']);
  });

  it('without either stops at a short page, or at an empty one when the last is full', async () => {
    const short = await run(pageParams({ pageParam: 'p', perPageParam: 'size' }), (req) => {
      const page = Number(q(req, 'p'));
      return json(200, { data: all.slice((page - 1) * 10, page * 10) });
    });
    expect(short.keys).toEqual(keysOf(0, 25));
    expect(short.urls).toEqual(['?p=1&size=10', '?p=2&size=10', '?p=3&size=10']);

    const full = await run({ pageSize: 5, pagination: { type: 'page', firstPage: 0 } }, (req) => {
      const page = Number(q(req, 'page'));
      return json(200, { data: all.slice(page * 5, page * 5 + 5) });
    });
    expect(full.keys).toEqual(keysOf(0, 25));
    expect(full.urls.at(-1)).toBe('?page=5&per_page=5');
    expect(full.urls).toHaveLength(6);
  });

  it('fails naming the strategy and the URL when links.next repeats', async () => {
    const { result, keys } = await run(pageParams(), () =>
      json(200, { data: [{ key: 'a' }], links: { next: 'http://api.test/v1/items?page=2&per_page=10' } }),
    );
    expect(result.status).toBe('failed');
    expect(result.error).toBe(
      'source "src" (page pagination): the server sent the same next page twice (URL http://api.test/v1/items?page=2&per_page=10); stopping instead of looping',
    );
    expect(keys).toEqual(['a', 'a']);
  });

  it('resumes from the page in the checkpoint, page number included', async () => {
    const checkpoint: Checkpoint = {
      version: 1,
      lowWater: 12,
      nextBatch: 1,
      sourcesDone: [],
      position: {
        nodeId: 'src',
        cursor: { url: 'http://api.test/v1/items?page=2&per_page=10', page: 2 },
        firstSeq: 10,
      },
      nodeState: {},
      breakers: {},
    };
    const { result, keys, urls } = await run(
      pageParams(),
      (req) => {
        const { data, last } = slice(req);
        return json(200, { data, meta: { last_page: last } });
      },
      checkpoint,
    );
    expect(result.status).toBe('succeeded');
    expect(urls).toEqual(['?page=2&per_page=10', '?page=3&per_page=10']);
    expect(keys).toEqual(keysOf(12, 25)); // 10 and 11 were settled before
  });
});

describe('http source: link-header pagination', () => {
  it('follows rel="next" of the Link header to the end', async () => {
    const { result, keys, urls } = await run(
      { pageSize: 10, pageSizeParam: 'per_page', recordsPath: '', pagination: { type: 'link-header' } },
      (req) => {
        const page = Number(q(req, 'page') ?? 1);
        const links = [`<http://api.test/v1/items?per_page=10&page=1>; rel="first"`];
        if (page < 3) links.push(`<http://api.test/v1/items?per_page=10&page=${page + 1}>; rel="next"`);
        return json(200, all.slice((page - 1) * 10, page * 10), { link: links.join(', ') });
      },
    );
    expect(result.status).toBe('succeeded');
    expect(keys).toEqual(keysOf(0, 25));
    expect(urls).toEqual(['?per_page=10', '?per_page=10&page=2', '?per_page=10&page=3']);
  });

  it('parses RFC 8288 headers: several rels, unquoted values, relative targets, other params', () => {
    expect(linkTarget('<https://x/?p=2>; rel="next", <https://x/?p=9>; rel="last"', 'next')).toBe('https://x/?p=2');
    expect(linkTarget('<https://x/?p=9>; rel="last", <https://x/?p=2>; rel=next', 'next')).toBe('https://x/?p=2');
    expect(linkTarget('</items?p=3>; title="a, b"; rel="prev next"', 'next')).toBe('/items?p=3');
    expect(linkTarget('<https://x/?p=1>; REL="Next"', 'next')).toBe('https://x/?p=1');
    expect(linkTarget('<https://x/?p=1>; rel="prev"', 'next')).toBeUndefined();
    expect(linkTarget(undefined, 'next')).toBeUndefined();
  });
});

describe('http source: offset pagination', () => {
  it('moves the offset by the records read and stops at a short page', async () => {
    const { result, keys, urls } = await run({ pageSize: 10, pagination: { type: 'offset' } }, (req) => {
      const offset = Number(q(req, 'offset'));
      return json(200, { data: all.slice(offset, offset + Number(q(req, 'limit'))) });
    });
    expect(result.status).toBe('succeeded');
    expect(keys).toEqual(keysOf(0, 25));
    expect(urls).toEqual(['?offset=0&limit=10', '?offset=10&limit=10', '?offset=20&limit=10']);
  });

  it('stops at an empty page when the last one is full, with its own parameter names', async () => {
    const { keys, urls } = await run(
      { pageSize: 5, pagination: { type: 'offset', offsetParam: 'skip', limitParam: 'take' }, recordsPath: 'items' },
      (req) => {
        const skip = Number(q(req, 'skip'));
        return json(200, { items: all.slice(skip, skip + Number(q(req, 'take'))) });
      },
    );
    expect(keys).toEqual(keysOf(0, 25));
    expect(urls.at(-1)).toBe('?skip=25&take=5');
  });
});

describe('http source: none and limits', () => {
  it('sends one request with no paging', async () => {
    const { result, keys, urls } = await run({ pagination: { type: 'none' }, pageSizeParam: '' }, () =>
      json(200, { data: all.slice(0, 3), meta: { continuation_token: 'ignored' } }),
    );
    expect(result.status).toBe('succeeded');
    expect(keys).toEqual(keysOf(0, 3));
    expect(urls).toEqual(['']);
  });

  it('fails past maxPages instead of paging forever', async () => {
    let n = 0;
    const { result, keys } = await run({ maxPages: 3, pagination: { type: 'token' } }, () =>
      json(200, { data: [{ key: `k${n}` }], meta: { continuation_token: `t${++n}` } }),
    );
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/\(token pagination\): read 3 pages \(maxPages\)/);
    expect(keys).toEqual(['k0', 'k1', 'k2']);
  });

  it('resumes a token run from a URL cursor stored before there were strategies', async () => {
    const checkpoint: Checkpoint = {
      version: 1,
      lowWater: 10,
      nextBatch: 1,
      sourcesDone: [],
      position: { nodeId: 'src', cursor: 'http://api.test/v1/items?limit=10&continuation_token=10', firstSeq: 10 },
      nodeState: {},
      breakers: {},
    };
    const { keys, urls } = await run(
      { pageSize: 10, pagination: { type: 'token' } },
      (req) => {
        const from = Number(q(req, 'continuation_token') ?? 0);
        return json(200, {
          data: all.slice(from, from + 10),
          meta: { continuation_token: from + 10 < 25 ? String(from + 10) : null },
        });
      },
      checkpoint,
    );
    expect(urls).toEqual(['?limit=10&continuation_token=10', '?limit=10&continuation_token=20']);
    expect(keys).toEqual(keysOf(10, 25));
  });
});
