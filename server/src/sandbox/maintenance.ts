import { type Context, Hono } from 'hono';
import { bearerAuth } from './auth.js';
import { workOrderAt, workOrderRange } from './data.js';

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
 */

export interface MaintenanceOptions {
  seed: number;
  workOrders: number;
  token: string;
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

const badQuery = (c: Context, message: string) => c.json({ error: { code: 'bad_query', message } }, 400);

/**
 * A maintenance system (CMMS/EAM) in the shape of a unified API: work orders under
 * `/api/eam/work-orders`, bearer-token auth, paged by continuation token, page number, Link header
 * or offset (see the comment at the top of this file).
 */
export function maintenanceApp(o: MaintenanceOptions): Hono {
  const app = new Hono();
  app.use('/api/*', bearerAuth(o.token));

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

  app.get('/api/eam/work-orders', (c) => {
    const q = c.req.query();
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
