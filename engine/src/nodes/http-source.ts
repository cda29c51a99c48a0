import type { NodeParams } from '@sluice/shared';
import { type HttpRequest, type HttpResponse, laterWatermark, type WatermarkState } from '../ports.js';
import { readPath } from '../record-key.js';
import type { NodeFactory, SourceContext } from '../runtime.js';
import { callWithRetry, resolveTarget } from './http.js';

type Params = NodeParams<'http-source'>;
/** How a source moves from page to page (see `nextStep`). */
export type Pagination = Params['pagination'];

/**
 * Everything needed to fetch one page again: the cursor handed to `emitPage` and given back by
 * `startCursor()` when a run resumes. `url` is the full request URL (with page, offset or token
 * query parameters); `token` is set when the token travels in the body; `page` / `offset` are the
 * position for the strategies that count. (Runs checkpointed before there were strategies stored
 * the URL alone as a string; that still resumes.)
 */
export interface PageCursor {
  url: string;
  token?: string;
  page?: number;
  offset?: number;
}

/** What one answer says about the next page. `repeatKey` is what must not repeat (token or URL). */
export type NextStep = { stop: true } | { stop: false; cursor: PageCursor; repeatKey?: string; shown?: string };

interface Page {
  records: Record<string, unknown>[];
  next: NextStep;
}

const PAGE_RETRY = { maxAttempts: 5, initialDelayMs: 500, maxDelayMs: 30_000 };

/** Thrown when a source cannot read: the run fails with this message (records read so far are kept). */
export class SourceError extends Error {}

/**
 * Reads pages lazily: the next page is requested while the current one is being processed
 * downstream, and never more than one page ahead. How it moves from page to page is the
 * `pagination` strategy's business (see `nextStep`); a next token or URL that was already used
 * fails the run instead of looping, and so does going past `maxPages`.
 */
export const httpSource: NodeFactory<'http-source', SourceContext> = (ctx, params, restored) => {
  const incremental = params.incremental;
  // incremental sync: the watermark this run reads after (stored, else `initial`) and the largest read
  const state: WatermarkState = {};
  if (incremental) {
    const seeded = (restored ?? {}) as WatermarkState;
    const from = seeded.watermarkFrom ?? incremental.initial;
    if (from !== undefined) state.watermarkFrom = from;
    const max = laterWatermark(from, seeded.watermark);
    if (max !== undefined) state.watermark = max;
  }
  /** The URL of a page request: with the watermark parameter when there is a watermark. */
  const withWatermark = (url: string): string => {
    if (!incremental || state.watermarkFrom === undefined) return url;
    const u = new URL(url);
    u.searchParams.set(incremental.param, state.watermarkFrom);
    return u.toString();
  };
  const track = (records: Record<string, unknown>[]): void => {
    if (!incremental) return;
    for (const record of records) {
      const value = readPath(record, incremental.field);
      if (typeof value === 'string' && value !== '') state.watermark = laterWatermark(state.watermark, value);
      else if (typeof value === 'number' && Number.isFinite(value))
        state.watermark = laterWatermark(state.watermark, String(value));
    }
  };
  const fetchPage = async (cursor: PageCursor): Promise<Page> => {
    const target = resolveTarget(ctx, params);
    const request: HttpRequest = {
      method: params.method,
      url: withWatermark(cursor.url),
      headers: { accept: 'application/json', ...target.headers },
      timeoutMs: params.timeoutMs,
    };
    if (params.method === 'POST') {
      const body: Record<string, unknown> = { ...(params.body ?? {}) };
      if (cursor.token !== undefined && params.pagination.type === 'token')
        body[params.pagination.tokenParam] = cursor.token;
      request.body = JSON.stringify(body);
      request.headers['content-type'] = 'application/json';
    }
    const result = await callWithRetry(ctx, request, PAGE_RETRY, target.breakerKey);
    if (!result.ok)
      throw new SourceError(`source "${ctx.node.id}" could not read ${cursor.url}: ${result.error.message}`);
    const { records, body } = parseRecords(result.response, cursor.url, params.recordsPath);
    return { records, next: nextStep(params, cursor, result.response, body, records.length) };
  };

  return {
    ...(incremental ? { state: () => state } : {}),
    async process(activations) {
      for (const _ of activations) {
        const strategy = params.pagination.type;
        const resumeAt = ctx.startCursor();
        let cursor = resumeAt === undefined ? firstCursor(ctx, params) : fromStored(resumeAt, params);
        const seen = new Set<string>();
        const first = repeatKeyOf(params.pagination, cursor);
        if (first !== undefined) seen.add(first);
        let pages = 1;
        let pending: Promise<Page> | undefined = fetchPage(cursor);
        while (pending) {
          const page: Page = await pending;
          const pageCursor = cursor;
          pending = undefined;
          // the page is passed on first: what was read is kept even when the run fails after it
          let failure: string | undefined;
          if (!page.next.stop) {
            const key = page.next.repeatKey;
            if (key !== undefined && seen.has(key)) {
              failure = `the server sent the same next page twice (${page.next.shown ?? key}); stopping instead of looping`;
            } else if (pages >= params.maxPages) {
              failure = `read ${params.maxPages.toLocaleString('en-US')} pages (maxPages) and the server still names a next page; stopping`;
            } else {
              if (key !== undefined) seen.add(key);
              cursor = page.next.cursor;
              pages++;
              pending = fetchPage(cursor);
              pending.catch(() => {}); // awaited on the next turn; do not report it unhandled meanwhile
            }
          }
          if (page.records.length) {
            track(page.records);
            await ctx.emitPage(page.records, params.keyField, pageCursor);
          }
          if (failure) throw new SourceError(`source "${ctx.node.id}" (${strategy} pagination): ${failure}`);
        }
      }
    },
  };
};

/** Fills defaults for params that flows validated before they existed may lack. */
/** The request for the first page: the URL with the fixed query and the paging parameters. */
export function firstCursor(ctx: SourceContext, params: Params): PageCursor {
  const url = new URL(resolveTarget(ctx, params).url);
  for (const [k, v] of Object.entries(params.query)) url.searchParams.set(k, v);
  const p = params.pagination;
  if (p.type === 'page') {
    url.searchParams.set(p.pageParam, String(p.firstPage));
    url.searchParams.set(p.perPageParam, String(params.pageSize));
    return { url: url.toString(), page: p.firstPage };
  }
  if (p.type === 'offset') {
    url.searchParams.set(p.offsetParam, '0');
    url.searchParams.set(p.limitParam, String(params.pageSize));
    return { url: url.toString(), offset: 0 };
  }
  if (params.pageSizeParam) url.searchParams.set(params.pageSizeParam, String(params.pageSize));
  return { url: url.toString() };
}

/** A cursor from a checkpoint: an object written by this node, or a URL string from older runs. */
function fromStored(stored: unknown, params: Params): PageCursor {
  const cursor: PageCursor = typeof stored === 'string' ? { url: stored } : { ...(stored as PageCursor) };
  const p = params.pagination;
  const url = new URL(cursor.url);
  if (p.type === 'page' && cursor.page === undefined)
    cursor.page = Number(url.searchParams.get(p.pageParam) ?? p.firstPage);
  if (p.type === 'offset' && cursor.offset === undefined)
    cursor.offset = Number(url.searchParams.get(p.offsetParam) ?? 0);
  return cursor;
}

function repeatKeyOf(p: Pagination, cursor: PageCursor): string | undefined {
  if (p.type === 'token')
    return cursor.token ?? (p.send === 'query' ? tokenFromUrl(cursor.url, p.tokenParam) : undefined);
  if (p.type === 'page' || p.type === 'link-header' || p.type === 'links-next') return cursor.url;
  return undefined;
}

function tokenFromUrl(url: string, param: string): string | undefined {
  return new URL(url).searchParams.get(param) ?? undefined;
}

/**
 * Where the page after `cursor` is, from its answer, for each strategy:
 * - token: the token at `tokenPath` in the body (or in the `tokenHeader` header); none or empty: last page.
 * - page: the URL at `nextPath` when it is a string; null there, or `lastPagePath` reached: last page;
 *   neither there: a short or empty page is the last.
 * - link-header: the `Link` header entry with `rel` (RFC 8288); none: last page.
 * - offset: a short or empty page is the last; else offset + records read.
 * - links-next: the URL at `nextPath`; none: last page.
 */
export function nextStep(
  params: Pick<Params, 'pagination' | 'pageSize'>,
  cursor: PageCursor,
  response: HttpResponse,
  body: unknown,
  count: number,
): NextStep {
  const p = params.pagination;
  const stop = { stop: true } as const;
  switch (p.type) {
    case 'none':
      return stop;
    case 'token': {
      const token = p.tokenHeader ? header(response, p.tokenHeader) : readPath(body, p.tokenPath);
      if (typeof token !== 'string' && typeof token !== 'number') return stop;
      const value = String(token);
      if (value === '') return stop;
      const shown = `token "${value}"`;
      if (p.send === 'body') return { stop: false, cursor: { url: cursor.url, token: value }, repeatKey: value, shown };
      const url = new URL(cursor.url);
      url.searchParams.set(p.tokenParam, value);
      return { stop: false, cursor: { url: url.toString() }, repeatKey: value, shown };
    }
    case 'page': {
      const page = cursor.page ?? p.firstPage;
      const next = p.nextPath ? readPath(body, p.nextPath) : undefined;
      if (typeof next === 'string' && next !== '') {
        const url = new URL(next, cursor.url).toString();
        return { stop: false, cursor: { url, page: page + 1 }, repeatKey: url, shown: `URL ${url}` };
      }
      if (next === null) return stop;
      const last = p.lastPagePath ? readPath(body, p.lastPagePath) : undefined;
      if (typeof last === 'number' || (typeof last === 'string' && last.trim() !== '' && !Number.isNaN(Number(last)))) {
        if (page >= Number(last)) return stop;
      } else if (count < params.pageSize) return stop;
      if (count === 0) return stop;
      const url = new URL(cursor.url);
      url.searchParams.set(p.pageParam, String(page + 1));
      const href = url.toString();
      return { stop: false, cursor: { url: href, page: page + 1 }, repeatKey: href, shown: `page ${page + 1}` };
    }
    case 'link-header': {
      const next = linkTarget(header(response, 'link'), p.rel);
      if (!next) return stop;
      const url = new URL(next, cursor.url).toString();
      return { stop: false, cursor: { url }, repeatKey: url, shown: `URL ${url}` };
    }
    case 'offset': {
      if (count === 0 || count < params.pageSize) return stop;
      const offset = (cursor.offset ?? 0) + count;
      const url = new URL(cursor.url);
      url.searchParams.set(p.offsetParam, String(offset));
      return { stop: false, cursor: { url: url.toString(), offset } };
    }
    case 'links-next': {
      const next = readPath(body, p.nextPath);
      if (typeof next !== 'string' || next === '') return stop;
      const url = new URL(next, cursor.url).toString();
      return { stop: false, cursor: { url }, repeatKey: url, shown: `URL ${url}` };
    }
  }
}

function header(response: HttpResponse, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.entries(response.headers).find(([k]) => k.toLowerCase() === lower)?.[1];
}

/**
 * The target of the first entry of an RFC 8288 `Link` header whose `rel` includes `rel`
 * (`<https://x/?page=2>; rel="next", <https://x/?page=9>; rel="last"`).
 */
export function linkTarget(value: string | undefined, rel: string): string | undefined {
  if (!value) return undefined;
  const wanted = rel.toLowerCase();
  for (const [, target, paramText = ''] of value.matchAll(/<([^>]*)>([^<]*)/g)) {
    const found = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]*))/i.exec(paramText);
    const rels = (found?.[1] ?? found?.[2] ?? '').toLowerCase().split(/\s+/);
    if (rels.includes(wanted)) return target;
  }
  return undefined;
}

function parseRecords(
  response: HttpResponse,
  url: string,
  recordsPath: string,
): { records: Record<string, unknown>[]; body: unknown } {
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    throw new SourceError(`${url} did not answer with JSON`);
  }
  const records = readPath(body, recordsPath);
  if (!Array.isArray(records)) {
    throw new SourceError(`${url}: no array of records at "${recordsPath}" in the response`);
  }
  const objects = records.filter(
    (r): r is Record<string, unknown> => r !== null && typeof r === 'object' && !Array.isArray(r),
  );
  if (objects.length !== records.length)
    throw new SourceError(`${url}: some records at "${recordsPath}" are not objects`);
  return { records: objects, body };
}
