import { Hono } from 'hono';
import { bearerAuth } from './auth.js';
import { workOrderAt } from './data.js';

export interface MaintenanceOptions {
  seed: number;
  workOrders: number;
  token: string;
}

const MAX_PAGE = 1000;

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

/**
 * A maintenance system (CMMS/EAM) in the shape of a unified API: work orders under
 * `/api/eam/work-orders`, bearer-token auth, paged either by continuation token
 * (`limit` + `continuation_token`, next token in `meta.continuation_token`) or by `page` + `per_page`
 * with `links.next` and `meta.last_page`.
 */
export function maintenanceApp(o: MaintenanceOptions): Hono {
  const app = new Hono();
  app.use('/api/*', bearerAuth(o.token));

  app.get('/api/eam/work-orders', (c) => {
    const q = c.req.query();
    if (q.page !== undefined) {
      const page = Number(q.page);
      const per = pageSize(q.per_page, 15);
      if (!Number.isInteger(page) || page < 1)
        return c.json({ error: { code: 'bad_query', message: 'page: must be a whole number from 1' } }, 400);
      if (typeof per === 'string') return c.json({ error: { code: 'bad_query', message: `per_page: ${per}` } }, 400);
      const from = (page - 1) * per;
      const to = Math.min(o.workOrders, from + per);
      const last = Math.max(1, Math.ceil(o.workOrders / per));
      const url = new URL(c.req.url);
      const link = (p: number) => {
        url.searchParams.set('page', String(p));
        url.searchParams.set('per_page', String(per));
        return url.toString();
      };
      return c.json({
        data: range(o.seed, from, to),
        links: {
          first: link(1),
          last: link(last),
          prev: page > 1 ? link(page - 1) : null,
          next: page < last ? link(page + 1) : null,
        },
        meta: {
          current_page: page,
          from: from + 1,
          last_page: last,
          path: url.pathname,
          per_page: per,
          to,
          total: o.workOrders,
        },
      });
    }
    const limit = pageSize(q.limit, 100);
    if (typeof limit === 'string') return c.json({ error: { code: 'bad_query', message: `limit: ${limit}` } }, 400);
    const offset = q.continuation_token ? decodeToken(q.continuation_token) : 0;
    if (offset === undefined) {
      return c.json(
        { error: { code: 'bad_query', message: 'continuation_token: not a token this server issued' } },
        400,
      );
    }
    const to = Math.min(o.workOrders, offset + limit);
    return c.json({
      data: range(o.seed, offset, to),
      meta: { continuation_token: to < o.workOrders ? encodeToken(to) : null, total: o.workOrders },
    });
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

function range(seed: number, from: number, to: number) {
  const out = [];
  for (let i = from; i < to; i++) out.push(workOrderAt(seed, i));
  return out;
}
