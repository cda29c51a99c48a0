import { type Context, Hono } from 'hono';
import { bearerAuth } from './auth.js';
import {
  ASSET_TIMING,
  assetAt,
  firstIndexUpdatedAfter,
  PURCHASE_ORDER_TIMING,
  purchaseOrderAt,
  type Timing,
  WORK_ORDER_TIMING,
  workOrderAt,
  workOrderRange,
} from './data.js';

/*
 * Paging of `GET /api/eam/work-orders` (all strategies serve the same work orders in the same order):
 *
 * - no `paging` parameter (the original behaviour, unchanged): continuation token (`limit` +
 *   `continuation_token`, next token in the body at `meta.continuation_token`, null on the last page),
 *   or, when `page` is given, `page` + `per_page` with `links.next` and `meta.last_page`.
 * - `paging=token`: continuation token as above (`limit`, default 100, + `continuation_token`).
 * - `paging=token-header`: the same, but the next token is in the `X-Continuation-Token` response
 *   header (absent on the last page); the body is `{ data, meta: { total } }`.
 * - `paging=page`: `page` (from 1, default 1) + `per_page` (default 15), with `links.next` (null on the
 *   last page) and `meta.last_page`.
 * - `paging=page-meta`: the same without `links`: only `meta.last_page` says where the end is.
 * - `paging=link`: `page` + `per_page`, records in `items`, and an RFC 8288 `Link` header with
 *   `rel="next"` (absent on the last page), `"prev"`, `"first"` and `"last"`.
 * - `paging=offset`: `offset` (default 0) + `limit` (default 100); the body is
 *   `{ data, meta: { offset, limit, total } }`; the end is a short or empty page.
 *
 * `POST /api/eam/work-orders/search` pages by continuation token sent in the JSON body
 * (`{ "continuation_token": "…" }`; the page size is `limit` in the query or the body), next token at
 * `meta.continuation_token`.
 *
 * `broken=repeat` (with any `paging` except offset, and on the search endpoint) makes the server
 * misbehave: every page names page 2 as the next one (same token, same URL), for loop tests.
 *
 * Assets (`GET /api/eam/assets`) and purchase orders (`GET /api/eam/purchase-orders`) page the same
 * way: continuation token by default (`limit` + `continuation_token`, next token at
 * `meta.continuation_token`), `paging=page` (`page` + `per_page`, `links.next`, `meta.last_page`) or
 * `paging=offset` (`offset` + `limit`). Every entity list, work orders included, takes
 * `filter[updatedAt:gt]=<ISO instant>` (only records updated strictly after it) and
 * `sort=updatedAt` / `sort=-updatedAt` (oldest / newest first; datasets of at most 100,000 records);
 * without them work orders are served exactly as described above. One record of each is at
 * `GET /api/eam/<entity>/:key`.
 */

export interface MaintenanceOptions {
  seed: number;
  workOrders: number;
  /** Assets in the dataset (default: as many as work orders). */
  assets?: number;
  /** Purchase orders in the dataset (default: as many as work orders). */
  purchaseOrders?: number;
  token: string;
  /** Other bearer tokens it takes (the sandbox's OAuth2 access tokens). */
  accepts?: (token: string) => boolean;
}

/** One entity of the unified API as the list endpoint serves it. */
interface EntityTable {
  /** Token prefix, so a token of one list is not taken by another. */
  prefix: string;
  count: number;
  at: (index: number) => { updatedAt: string };
  timing: Timing;
}

const SORT_LIMIT = 100_000;
const ENTITY_PAGING = ['token', 'page', 'offset'] as const;

function encodeEntityToken(prefix: string, position: number): string {
  return Buffer.from(`${prefix}:${position}`).toString('base64url');
}

function decodeEntityToken(prefix: string, token: string): number | undefined {
  const text = Buffer.from(token, 'base64url').toString();
  const match = /^([a-z-]+):(\d+)$/.exec(text);
  return match && match[1] === prefix ? Number(match[2]) : undefined;
}

/**
 * The list endpoint of an entity with `filter[updatedAt:gt]`, `sort` and token, page or offset
 * paging. Unsorted, records come in index order: a filtered list scans from the first index that
 * can match (see `firstIndexUpdatedAfter`), and its token is the index to scan on from. Sorted,
 * the matching indexes are ordered by `updatedAt` (then index) and the token is a position.
 */
function listEntity(c: Context, table: EntityTable): Response {
  const q = c.req.query();
  if (q.paging !== undefined && !(ENTITY_PAGING as readonly string[]).includes(q.paging))
    return badQuery(c, `paging: must be one of ${ENTITY_PAGING.join(', ')}`);
  const paging = q.paging ?? (q.page !== undefined ? 'page' : 'token');
  const afterRaw = q['filter[updatedAt:gt]'];
  const after = afterRaw === undefined ? undefined : Date.parse(afterRaw);
  if (after !== undefined && Number.isNaN(after))
    return badQuery(c, 'filter[updatedAt:gt]: must be an ISO 8601 instant');
  const sort = q.sort;
  if (sort !== undefined && sort !== 'updatedAt' && sort !== '-updatedAt')
    return badQuery(c, 'sort: must be updatedAt or -updatedAt');
  if (sort !== undefined && table.count > SORT_LIMIT)
    return badQuery(c, `sort: only lists of at most ${SORT_LIMIT.toLocaleString('en-US')} records can be sorted`);
  const matches = (r: { updatedAt: string }) => after === undefined || Date.parse(r.updatedAt) > after;
  const first = after === undefined ? 0 : Math.min(table.count, firstIndexUpdatedAfter(table.timing, after));
  const prefix = `${table.prefix}${sort ? '-s' : ''}`;

  // Sorted lists and unfiltered ones are addressed by position; filtered unsorted ones by index.
  let sorted: number[] | undefined;
  if (sort) {
    const keyed: [number, number][] = [];
    for (let i = first; i < table.count; i++) {
      const r = table.at(i);
      if (matches(r)) keyed.push([Date.parse(r.updatedAt), i]);
    }
    keyed.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    if (sort === '-updatedAt') keyed.reverse();
    sorted = keyed.map(([, i]) => i);
  }
  /** Records from `position` on, at most `limit`, and the position after them (undefined at the end). */
  const take = (position: number, limit: number): { data: unknown[]; next?: number } => {
    if (sorted) {
      const to = Math.min(sorted.length, position + limit);
      const data = sorted.slice(position, to).map((i) => table.at(i));
      return to < sorted.length ? { data, next: to } : { data };
    }
    const data: unknown[] = [];
    let i = Math.max(position, first);
    while (i < table.count && data.length < limit) {
      const r = table.at(i++);
      if (matches(r)) data.push(r);
    }
    return i < table.count ? { data, next: i } : { data };
  };
  /** How many records the list has, and the position of its n-th record (from 0). */
  const count = (): number => {
    if (sorted) return sorted.length;
    if (after === undefined) return table.count;
    let n = 0;
    for (let i = first; i < table.count; i++) if (matches(table.at(i))) n++;
    return n;
  };
  const positionOf = (n: number): number => {
    if (sorted || after === undefined) return n;
    let seen = 0;
    for (let i = first; i < table.count; i++) {
      if (!matches(table.at(i))) continue;
      if (seen === n) return i;
      seen++;
    }
    return table.count;
  };

  if (paging === 'page' || paging === 'offset') {
    const isPage = paging === 'page';
    const per = pageSize(isPage ? q.per_page : q.limit, isPage ? 15 : 100);
    if (typeof per === 'string') return badQuery(c, `${isPage ? 'per_page' : 'limit'}: ${per}`);
    const page = Number(q.page ?? 1);
    const offset = isPage ? (page - 1) * per : Number(q.offset ?? 0);
    if (isPage && (!Number.isInteger(page) || page < 1)) return badQuery(c, 'page: must be a whole number from 1');
    if (!Number.isInteger(offset) || offset < 0) return badQuery(c, 'offset: must be a whole number from 0');
    const total = count();
    const data = offset < total ? take(positionOf(offset), Math.min(per, total - offset)).data : [];
    if (!isPage) return c.json({ data, meta: { offset, limit: per, total } });
    const last = Math.max(1, Math.ceil(total / per));
    const url = new URL(c.req.url);
    const link = (p: number) => {
      url.searchParams.set('page', String(p));
      url.searchParams.set('per_page', String(per));
      return url.toString();
    };
    return c.json({
      data,
      links: {
        first: link(1),
        last: link(last),
        prev: page > 1 ? link(page - 1) : null,
        next: page < last ? link(page + 1) : null,
      },
      meta: { current_page: page, last_page: last, per_page: per, total },
    });
  }

  const limit = pageSize(q.limit, 100);
  if (typeof limit === 'string') return badQuery(c, `limit: ${limit}`);
  const position = q.continuation_token ? decodeEntityToken(prefix, q.continuation_token) : 0;
  if (position === undefined) return badQuery(c, 'continuation_token: not a token this server issued for this list');
  const result = take(position, limit);
  const meta: Record<string, unknown> = {
    continuation_token: result.next === undefined ? null : encodeEntityToken(prefix, result.next),
  };
  if (sorted || after === undefined) meta.total = count();
  return c.json({ data: result.data, meta });
}

const MAX_PAGE = 1000;
const PAGING = ['token', 'token-header', 'page', 'page-meta', 'link', 'offset'] as const;

function encodeToken(offset: number): string {
  return Buffer.from(`wo:${offset}`).toString('base64url');
}

function decodeToken(token: string): number | undefined {
  const match = /^wo:(\d+)$/.exec(Buffer.from(token, 'base64url').toString());
  return match ? Number(match[1]) : undefined;
}

function pageSize(raw: string | undefined, fallback: number): number | string {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) return `must be a whole number from 1 to ${MAX_PAGE}`;
  return n;
}

const ASSET_TYPES = ['PUMP', 'CONVEYOR', 'COMPRESSOR', 'BOILER', 'CHILLER', 'PRESS', 'MIXER', 'FAN'];

const badQuery = (c: Context, message: string) => c.json({ error: { code: 'bad_query', message } }, 400);

/**
 * A maintenance system (CMMS/EAM) in the shape of a unified API: work orders under
 * `/api/eam/work-orders`, bearer-token auth, paged by continuation token, page number, Link header
 * or offset (see the comment at the top of this file).
 */
export function maintenanceApp(o: MaintenanceOptions): Hono {
  const app = new Hono();
  app.use('/api/*', bearerAuth(o.token, o.accepts));
  const assets = o.assets ?? o.workOrders;
  const purchaseOrders = o.purchaseOrders ?? o.workOrders;
  const tables = {
    'work-orders': { prefix: 'wof', count: o.workOrders, at: (i) => workOrderAt(o.seed, i), timing: WORK_ORDER_TIMING },
    assets: { prefix: 'as', count: assets, at: (i) => assetAt(o.seed, i), timing: ASSET_TIMING },
    'purchase-orders': {
      prefix: 'po',
      count: purchaseOrders,
      at: (i) => purchaseOrderAt(o.seed, i),
      timing: PURCHASE_ORDER_TIMING,
    },
  } satisfies Record<string, EntityTable>;

  /** One page by continuation token: the body, and the next token (undefined on the last page). */
  const tokenPage = (limitRaw: string | undefined, token: string | undefined, repeat: boolean) => {
    const limit = pageSize(limitRaw, 100);
    if (typeof limit === 'string') return { error: `limit: ${limit}` };
    const offset = token ? decodeToken(token) : 0;
    if (offset === undefined) return { error: 'continuation_token: not a token this server issued' };
    const to = Math.min(o.workOrders, offset + limit);
    const next = repeat ? encodeToken(Math.min(limit, o.workOrders)) : to < o.workOrders ? encodeToken(to) : undefined;
    return { data: workOrderRange(o.seed, offset, to), next };
  };

  /** The asset of a key, or undefined when there is none. */
  const assetByKey = (key: string) => {
    const match = /^AS-([A-Z]+)-(\d{4,})$/.exec(key);
    const type = match ? ASSET_TYPES.indexOf(match[1] as string) : -1;
    const index = match && type >= 0 ? (Number(match[2]) - 1) * ASSET_TYPES.length + type : -1;
    if (index < 0 || index >= assets) return undefined;
    const asset = assetAt(o.seed, index);
    return asset.key === key ? asset : undefined;
  };

  app.get('/api/eam/assets', (c) => {
    // a list of keys (?ids=a,b,c, at most 1,000): the assets that exist, in the order asked; unknown ones left out
    const ids = c.req.query('ids');
    if (ids === undefined) return listEntity(c, tables.assets);
    const keys = ids.split(',').filter((k) => k !== '');
    if (keys.length > 1000) return badQuery(c, 'ids: at most 1,000 keys');
    return c.json({ data: keys.map(assetByKey).filter((a) => a !== undefined) });
  });
  app.get('/api/eam/purchase-orders', (c) => listEntity(c, tables['purchase-orders']));

  app.get('/api/eam/assets/:key', (c) => {
    const asset = assetByKey(c.req.param('key'));
    if (!asset)
      return c.json({ error: { code: 'not_found', message: `asset ${c.req.param('key')} does not exist` } }, 404);
    return c.json({ data: asset });
  });

  app.get('/api/eam/purchase-orders/:key', (c) => {
    const index = (Number(c.req.param('key').replace(/^PO/, '')) - 7_100_000_000) / 104_729;
    if (!/^PO\d+$/.test(c.req.param('key')) || !Number.isInteger(index) || index < 0 || index >= purchaseOrders)
      return c.json(
        { error: { code: 'not_found', message: `purchase order ${c.req.param('key')} does not exist` } },
        404,
      );
    return c.json({ data: purchaseOrderAt(o.seed, index) });
  });

  app.get('/api/eam/work-orders', (c) => {
    const q = c.req.query();
    // the unified filters and sort: served by the entity list (token, page or offset paging)
    if (q['filter[updatedAt:gt]'] !== undefined || q.sort !== undefined) {
      if (q.paging !== undefined && !(ENTITY_PAGING as readonly string[]).includes(q.paging))
        return badQuery(c, `paging: with filter or sort, must be one of ${ENTITY_PAGING.join(', ')}`);
      return listEntity(c, tables['work-orders']);
    }
    const repeat = q.broken === 'repeat';
    if (q.paging !== undefined && !(PAGING as readonly string[]).includes(q.paging))
      return badQuery(c, `paging: must be one of ${PAGING.join(', ')}`);
    const paging = q.paging ?? (q.page !== undefined ? 'page' : 'token');

    if (paging === 'page' || paging === 'page-meta' || paging === 'link') {
      const page = Number(q.page ?? 1);
      const per = pageSize(q.per_page, 15);
      if (!Number.isInteger(page) || page < 1) return badQuery(c, 'page: must be a whole number from 1');
      if (typeof per === 'string') return badQuery(c, `per_page: ${per}`);
      const from = (page - 1) * per;
      const to = Math.min(o.workOrders, from + per);
      const last = Math.max(1, Math.ceil(o.workOrders / per));
      const url = new URL(c.req.url);
      const link = (p: number) => {
        url.searchParams.set('page', String(p));
        url.searchParams.set('per_page', String(per));
        return url.toString();
      };
      const next = repeat ? link(2) : page < last ? link(page + 1) : null;
      const data = from < o.workOrders ? workOrderRange(o.seed, from, to) : [];
      if (paging === 'link') {
        const links = [`<${link(1)}>; rel="first"`];
        if (page > 1) links.push(`<${link(page - 1)}>; rel="prev"`);
        if (next) links.push(`<${next}>; rel="next"`);
        links.push(`<${link(last)}>; rel="last"`);
        c.header('Link', links.join(', '));
        return c.json({ items: data });
      }
      const meta = {
        current_page: page,
        from: from + 1,
        last_page: last,
        path: url.pathname,
        per_page: per,
        to,
        total: o.workOrders,
      };
      if (paging === 'page-meta') return c.json({ data, meta });
      return c.json({
        data,
        links: { first: link(1), last: link(last), prev: page > 1 ? link(page - 1) : null, next },
        meta,
      });
    }

    if (paging === 'offset') {
      const limit = pageSize(q.limit, 100);
      const offset = Number(q.offset ?? 0);
      if (typeof limit === 'string') return badQuery(c, `limit: ${limit}`);
      if (!Number.isInteger(offset) || offset < 0) return badQuery(c, 'offset: must be a whole number from 0');
      const to = Math.min(o.workOrders, offset + limit);
      return c.json({
        data: offset < o.workOrders ? workOrderRange(o.seed, offset, to) : [],
        meta: { offset, limit, total: o.workOrders },
      });
    }

    const result = tokenPage(q.limit, q.continuation_token, repeat);
    if ('error' in result) return badQuery(c, result.error as string);
    if (paging === 'token-header') {
      if (result.next) c.header('X-Continuation-Token', result.next);
      return c.json({ data: result.data, meta: { total: o.workOrders } });
    }
    return c.json({ data: result.data, meta: { continuation_token: result.next ?? null, total: o.workOrders } });
  });

  app.post('/api/eam/work-orders/search', async (c) => {
    let body: { continuation_token?: unknown; limit?: unknown };
    try {
      body = ((await c.req.json()) ?? {}) as typeof body;
    } catch {
      return c.json({ error: { code: 'bad_body', message: 'the body must be JSON' } }, 400);
    }
    const limit = c.req.query('limit') ?? (body.limit === undefined ? undefined : String(body.limit));
    const token = typeof body.continuation_token === 'string' ? body.continuation_token : undefined;
    const result = tokenPage(limit, token, c.req.query('broken') === 'repeat');
    if ('error' in result) return badQuery(c, result.error as string);
    return c.json({ data: result.data, meta: { continuation_token: result.next ?? null, total: o.workOrders } });
  });

  app.get('/api/eam/work-orders/:key', (c) => {
    const index = (Number(c.req.param('key')) - 3_000_538_475_429) / 7919;
    if (!Number.isInteger(index) || index < 0 || index >= o.workOrders) {
      return c.json({ error: { code: 'not_found', message: `work order ${c.req.param('key')} does not exist` } }, 404);
    }
    return c.json({ data: workOrderAt(o.seed, index) });
  });

  return app;
}
