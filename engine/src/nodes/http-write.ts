import type { NodeParams, RecordError } from '@sluice/shared';
import type { HttpResponse } from '../ports.js';
import { readPath } from '../record-key.js';
import type { Item, NodeFactory, WriteContext } from '../runtime.js';
import { type CallResult, callWithRetry, errorFromResponse, resolveTarget, type Target } from './http.js';

type Params = NodeParams<'http-write'>;

/** What happened to one record of a request: written, or failed with a reason. */
type Outcome = { ok: true; attempts: number } | { ok: false; error: RecordError; attempts: number };

/**
 * Writes records as JSON, `concurrency` requests at a time, and passes the results on in record
 * order. Record mode sends one request per record; batch mode one per group of up to `batchSize`
 * records, whose results the response may report per record. The idempotency key is derived from
 * the run, the node and the record key (batch mode: the batch's first and last keys and its size),
 * so a batch replayed after a crash does not write twice. A resumed run may group the records of
 * the interrupted batch differently (records settled or filtered otherwise), which gives the group a
 * new key: with `recordKeyField` each record in the body carries its own key, which does not change.
 */
export const httpWrite: NodeFactory<'http-write', WriteContext> = (ctx, params) => {
  const batchMode = params.mode === 'batch';
  const isSuccess = (status: number) =>
    params.successStatuses?.length ? params.successStatuses.includes(status) : status >= 200 && status < 300;

  /**
   * Sends a request under the node's retry policy. The response is judged by `successStatuses`: a
   * listed status is a success even outside 2xx, an unlisted 2xx a final failure. (callWithRetry
   * knows only 2xx, so the client it sees reports a configured success as a 200.)
   */
  const send = async (body: string, key: string, target: Target, batchNo: number): Promise<CallResult> => {
    let last: HttpResponse | undefined;
    const http = ctx.connectors.http;
    // without successStatuses this is callWithRetry's own rule (2xx), so the context is used as is
    const sendCtx: WriteContext = !params.successStatuses?.length
      ? ctx
      : {
          ...ctx,
          connectors: {
            ...ctx.connectors,
            http: async (request) => {
              const response = await http(request);
              last = response;
              const success = isSuccess(response.status);
              if (success || (response.status >= 200 && response.status < 300))
                return { ...response, status: success ? 200 : 299 };
              return response;
            },
          },
        };
    const result = await callWithRetry(
      sendCtx,
      {
        method: params.method,
        url: target.url,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...target.headers,
          [params.idempotencyHeader]: key,
        },
        body,
        timeoutMs: params.timeoutMs,
        origin:
          batchNo > 0 ? { runId: ctx.runId, nodeId: ctx.node.id, batchNo } : { runId: ctx.runId, nodeId: ctx.node.id },
      },
      params.retry,
      target.breakerKey,
    );
    if (!result.ok || !last || sendCtx === ctx) return result;
    if (!isSuccess(last.status)) return { ok: false, error: errorFromResponse(last), attempts: result.attempts };
    return { ...result, response: last };
  };

  const writeRecord = async (item: Item, target: Target): Promise<Outcome[]> => {
    const result = await send(JSON.stringify(item.data), recordIdempotencyKey(item), target, item.batchNo);
    return [result.ok ? { ok: true, attempts: result.attempts } : result];
  };

  /** A record's idempotency key: the same in every life of the run, whatever it is sent with. */
  const recordIdempotencyKey = (item: Item) => `${ctx.runId}:${ctx.node.id}:${item.key}`;

  const writeBatch = async (items: Item[], target: Target): Promise<Outcome[]> => {
    const field = params.recordKeyField;
    const records = field
      ? items.map((item) => ({ ...item.data, [field]: recordIdempotencyKey(item) }))
      : items.map((item) => item.data);
    const body = params.bodyPath ? nest(params.bodyPath, records) : records;
    const key = batchKey(ctx.runId, ctx.node.id, items);
    const result = await send(JSON.stringify(body), key, target, items[0]?.batchNo ?? 0);
    if (!result.ok) return items.map(() => result);
    if (!params.resultsPath) return items.map(() => ({ ok: true, attempts: result.attempts }));
    return perRecord(items, result.response, result.attempts);
  };

  /** Reads the per-record results of a batch answer; a record the answer says nothing about fails. */
  const perRecord = (items: Item[], response: HttpResponse, attempts: number): Outcome[] => {
    let results: unknown;
    try {
      results = readPath(JSON.parse(response.body), params.resultsPath as string);
    } catch {
      results = undefined;
    }
    if (!Array.isArray(results)) {
      const error: RecordError = {
        message: `HTTP ${response.status}: the response has no array of results at "${params.resultsPath}", so which records were written is unknown`,
        code: 'batch_results_unreadable',
        httpStatus: response.status,
      };
      return items.map(() => ({ ok: false, error, attempts }));
    }
    let byKey: Map<string, unknown> | undefined;
    const keyField = params.resultKeyField;
    if (keyField) {
      byKey = new Map();
      for (const r of results) {
        const k = readPath(r, keyField);
        if (typeof k === 'string' || typeof k === 'number') byKey.set(String(k), r);
      }
    }
    return items.map((item, i): Outcome => {
      let result: unknown;
      if (byKey && keyField) {
        const own = readPath(item.data, keyField);
        result = byKey.get(typeof own === 'string' || typeof own === 'number' ? String(own) : item.key);
      } else {
        result = results[i];
      }
      if (result === undefined || result === null || typeof result !== 'object') {
        return {
          ok: false,
          error: {
            message: `HTTP ${response.status}: the response reports no result for this record`,
            code: 'batch_result_missing',
            httpStatus: response.status,
          },
          attempts,
        };
      }
      const verdict = judge(result, params);
      if (verdict.ok) return { ok: true, attempts };
      return { ok: false, error: verdict.error, attempts };
    });
  };

  return {
    async process(items) {
      if (items.length === 0) return;
      const target = resolveTarget(ctx, params);
      const size = batchMode ? params.batchSize : 1;
      const groups: Item[][] = [];
      for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size));
      const results: Outcome[][] = new Array(groups.length);
      let next = 0;
      const worker = async () => {
        for (;;) {
          await ctx.boundary();
          const i = next++;
          if (i >= groups.length) return;
          const group = groups[i] as Item[];
          // the URL may take values from the record (batch mode: from the batch's first record)
          const url = fillUrl(target.url, (group[0] as Item).data);
          if (typeof url !== 'string') {
            results[i] = group.map(() => ({ ok: false as const, error: url, attempts: 0 }));
            continue;
          }
          const to = url === target.url ? target : { ...target, url };
          results[i] = batchMode ? await writeBatch(group, to) : await writeRecord(group[0] as Item, to);
        }
      };
      const workers = Array.from({ length: Math.min(params.concurrency, groups.length) }, worker);
      await Promise.all(workers);
      let ok: Item[] = [];
      for (const [g, group] of groups.entries()) {
        for (const [i, item] of group.entries()) {
          const result = (results[g] as Outcome[])[i] as Outcome;
          item.attempts = result.attempts;
          if (result.ok) {
            ok.push(item);
            continue;
          }
          if (ok.length) await ctx.emit('out', ok);
          ok = [];
          await ctx.fail(item, result.error, result.attempts);
        }
      }
      if (ok.length) await ctx.emit('out', ok);
    },
  };
};

/**
 * A batch's idempotency key: its first and last record keys, its size, and a hash of all its keys,
 * so a group of other records between the same two (a resumed run that filtered otherwise) never
 * shares it: the system would answer it with the other group's results.
 */
export function batchKey(runId: string, nodeId: string, items: readonly Item[]): string {
  const first = items[0] as Item;
  const last = items[items.length - 1] as Item;
  return `${runId}:${nodeId}:${first.key}..${last.key}:${items.length}:${keysHash(items)}`;
}

/** A 53-bit hash (cyrb53) of the records' keys in order, in base 36: to tell groups apart, not to keep secrets. */
function keysHash(items: readonly Item[]): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (const item of items) {
    const text = `${item.key}\u0000`;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

/** `{a: {b: value}}` for the path `a.b`. */
function nest(path: string, value: unknown): unknown {
  return path
    .split('.')
    .reverse()
    .reduce<unknown>((inner, part) => ({ [part]: inner }), value);
}

const OK_WORDS = /^(ok|success|succeeded|successful|created|updated|accepted|written)$/i;

/** Whether one per-record result says its record was written, and if not, why. */
function judge(result: unknown, params: Params): { ok: true } | { ok: false; error: RecordError } {
  const flag = readPath(result, params.resultOkPath);
  const status = readPath(result, params.resultStatusPath);
  let ok: boolean;
  if (typeof flag === 'boolean') ok = flag;
  else if (typeof status === 'number') ok = status >= 200 && status < 300;
  else if (typeof status === 'string') ok = /^2\d\d$/.test(status) || OK_WORDS.test(status);
  // neither a flag nor a status: a result without an error counts as written
  else ok = readPath(result, params.resultErrorPath) == null;
  if (ok) return { ok: true };
  const httpStatus = typeof status === 'number' ? status : /^\d{3}$/.test(String(status)) ? Number(status) : undefined;
  const reported = readPath(result, params.resultErrorPath);
  let reason: string | undefined;
  let code: string | undefined;
  if (typeof reported === 'string') reason = reported;
  else if (reported !== null && typeof reported === 'object') {
    const r = reported as { message?: unknown; code?: unknown };
    if (typeof r.message === 'string') reason = r.message;
    if (typeof r.code === 'string') code = r.code;
    reason ??= JSON.stringify(reported).slice(0, 500);
  }
  reason ??= 'the system reported this record as not written';
  const error: RecordError = {
    message: httpStatus !== undefined ? `HTTP ${httpStatus}: ${reason}` : reason,
    code: httpStatus !== undefined ? `http_${httpStatus}` : (code ?? 'batch_record_failed'),
  };
  if (httpStatus !== undefined) error.httpStatus = httpStatus;
  return { ok: false, error };
}

/**
 * Fills `{field}` placeholders of a URL (dotted paths allowed) from the record, URL-encoded; a field
 * the record lacks (or that is not a string or a number) fails the record with the placeholder named.
 */
export function fillUrl(url: string, record: Record<string, unknown>): string | RecordError {
  if (!url.includes('{')) return url;
  let missing: string | undefined;
  const filled = url.replace(/\{\{?\s*([\w.$-]+)\s*\}?\}/g, (_match, path: string) => {
    let value: unknown = record;
    for (const part of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
    if (typeof value !== 'string' && typeof value !== 'number') {
      missing ??= path;
      return '';
    }
    return encodeURIComponent(String(value));
  });
  if (missing !== undefined) return { message: `url: the record has no value for {${missing}}`, code: 'url_template' };
  return filled;
}
