import type { HttpResponse } from '../ports.js';
import { readPath } from '../record-key.js';
import type { NodeFactory } from '../runtime.js';
import { callWithRetry, resolveTarget } from './http.js';

type Pagination =
  | { type: 'none' }
  | { type: 'token'; tokenPath: string; tokenParam: string }
  | { type: 'links-next'; nextPath: string };

interface Params {
  connection?: string;
  url: string;
  query: Record<string, string>;
  recordsPath: string;
  keyField?: string;
  pageSize: number;
  pageSizeParam: string;
  pagination: Pagination;
  timeoutMs: number;
}

interface Page {
  records: Record<string, unknown>[];
  next?: string;
}

const PAGE_RETRY = { maxAttempts: 5, initialDelayMs: 500, maxDelayMs: 30_000 };

/** Thrown when a source cannot read: the run fails with this message (records read so far are kept). */
export class SourceError extends Error {}

/**
 * Reads pages lazily: the next page is requested while the current one is being processed
 * downstream, and never more than one page ahead.
 */
export const httpSource: NodeFactory = (ctx, raw) => {
  const params = raw as unknown as Params;
  const fetchPage = async (url: string): Promise<Page> => {
    const target = resolveTarget(ctx, params);
    const result = await callWithRetry(
      ctx,
      { method: 'GET', url, headers: { accept: 'application/json', ...target.headers }, timeoutMs: params.timeoutMs },
      PAGE_RETRY,
      target.breakerKey,
    );
    if (!result.ok) throw new SourceError(`source "${ctx.node.id}" could not read ${url}: ${result.error.message}`);
    return parsePage(result.response, url, params);
  };

  return {
    async process(activations) {
      for (const _ of activations) {
        const seenTokens = new Set<string>();
        const resumeAt = ctx.startCursor() as string | undefined;
        let url = resumeAt ?? firstUrl(ctx, params);
        let pending: Promise<Page> | undefined = fetchPage(url);
        while (pending) {
          const page: Page = await pending;
          const pageUrl = url;
          pending = undefined;
          const repeated = page.next !== undefined && seenTokens.has(page.next);
          if (page.next && !repeated) {
            seenTokens.add(page.next);
            url = page.next;
            pending = fetchPage(page.next);
            pending.catch(() => {}); // awaited on the next turn; do not report it unhandled meanwhile
          }
          if (page.records.length) await ctx.emitPage(page.records, params.keyField, pageUrl);
          if (repeated) {
            throw new SourceError(
              `source "${ctx.node.id}": the server sent the same next page twice (${page.next}); stopping instead of looping`,
            );
          }
        }
      }
    },
  };
};

function firstUrl(ctx: Parameters<NodeFactory>[0], params: Params): string {
  const url = new URL(resolveTarget(ctx, params).url);
  for (const [k, v] of Object.entries(params.query)) url.searchParams.set(k, v);
  if (params.pagination.type !== 'none' || params.pageSizeParam)
    url.searchParams.set(params.pageSizeParam, String(params.pageSize));
  return url.toString();
}

function parsePage(response: HttpResponse, url: string, params: Params): Page {
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    throw new SourceError(`${url} did not answer with JSON`);
  }
  const records = readPath(body, params.recordsPath);
  if (!Array.isArray(records)) {
    throw new SourceError(`${url}: no array of records at "${params.recordsPath}" in the response`);
  }
  const objects = records.filter(
    (r): r is Record<string, unknown> => r !== null && typeof r === 'object' && !Array.isArray(r),
  );
  if (objects.length !== records.length)
    throw new SourceError(`${url}: some records at "${params.recordsPath}" are not objects`);
  const p = params.pagination;
  if (p.type === 'token') {
    const token = readPath(body, p.tokenPath);
    if (typeof token !== 'string' || token === '') return { records: objects };
    const next = new URL(url);
    next.searchParams.set(p.tokenParam, token);
    return { records: objects, next: next.toString() };
  }
  if (p.type === 'links-next') {
    const next = readPath(body, p.nextPath);
    if (typeof next !== 'string' || next === '') return { records: objects };
    return { records: objects, next: new URL(next, url).toString() };
  }
  return { records: objects };
}
