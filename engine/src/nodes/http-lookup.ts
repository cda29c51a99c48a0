import type { NodeParams, RecordError } from '@sluice/shared';
import { LRUCache } from 'lru-cache';
import { readPath } from '../record-key.js';
import type { Item, NodeFactory, WriteContext } from '../runtime.js';
import { callWithRetry, resolveTarget, type Target } from './http.js';
import { fillUrl } from './http-write.js';

type Params = NodeParams<'http-lookup'>;

/** What a lookup found: a value, nothing (404, or a key the list answer leaves out), or a failure. */
type Answer =
  | { kind: 'found'; value: unknown; attempts: number }
  | { kind: 'missing'; attempts: number; error?: RecordError }
  | { kind: 'failed'; error: RecordError; attempts: number };

/** One request to make: the URL, and the cache keys (with their lookup keys) its answer settles. */
interface Pending {
  url: string;
  keys: { cacheKey: string; id: string }[];
}

/** What one record looks up: its cache key, or why it cannot look anything up. */
type Lookup = { cacheKey: string; url: string; id: string } | { error: RecordError };

/**
 * Enriches records from another system with a GET per distinct URL (record mode) or per group of
 * distinct keys sent as a list (batch mode), and merges each answer into its record at `into`. The
 * answers (their promises, so records arriving while a request is out wait for it rather than send
 * it again) are kept for the run in a bounded LRU by URL; a failed request is not kept. Requests go
 * through `callWithRetry`: retries, the connection's breaker and limits, as for writes.
 */
export const httpLookup: NodeFactory<'http-lookup', WriteContext> = (ctx, params) => {
  const cache = params.cacheSize > 0 ? new LRUCache<string, Promise<Answer>>({ max: params.cacheSize }) : undefined;
  const batchMode = params.mode === 'batch';

  const lookupOf = (item: Item, target: Target): Lookup => {
    const url = fillUrl(target.url, item.data);
    if (typeof url !== 'string') return { error: url };
    if (!batchMode) return { cacheKey: url, url, id: '' };
    const value = readPath(item.data, params.keyField as string);
    if ((typeof value !== 'string' || value === '') && (typeof value !== 'number' || !Number.isFinite(value)))
      return { error: { message: `keyField: the record has no value at "${params.keyField}"`, code: 'lookup_key' } };
    const id = String(value);
    return { cacheKey: `${url}${url.includes('?') ? '&' : '?'}${params.listParam}=${encodeURIComponent(id)}`, url, id };
  };

  const get = (url: string, target: Target) =>
    callWithRetry(
      ctx,
      { method: 'GET', url, headers: { accept: 'application/json', ...target.headers }, timeoutMs: params.timeoutMs },
      // a 404 is an answer here: the retry policy treats it as final, and it is read below
      params.retry,
      target.breakerKey,
    );

  /** Sends one request and settles the answers of the keys it covers. */
  const fetchOne = async (pending: Pending, target: Target): Promise<Map<string, Answer>> => {
    const answers = new Map<string, Answer>();
    const ids = pending.keys.map((k) => k.id);
    const url = batchMode
      ? `${pending.url}${pending.url.includes('?') ? '&' : '?'}${params.listParam}=${ids.map(encodeURIComponent).join(',')}`
      : pending.url;
    const result = await get(url, target);
    if (!result.ok) {
      const answer: Answer =
        result.error.httpStatus === 404
          ? { kind: 'missing', attempts: result.attempts, error: result.error }
          : { kind: 'failed', error: result.error, attempts: result.attempts };
      for (const k of pending.keys) answers.set(k.cacheKey, answer);
      return answers;
    }
    let body: unknown;
    try {
      body = result.response.body === '' ? null : JSON.parse(result.response.body);
    } catch {
      const error = { message: `HTTP ${result.response.status}: the answer is not JSON`, code: 'lookup_not_json' };
      for (const k of pending.keys) answers.set(k.cacheKey, { kind: 'failed', error, attempts: result.attempts });
      return answers;
    }
    if (!batchMode) {
      const key = pending.keys[0] as Pending['keys'][number];
      const value = params.responsePath ? readPath(body, params.responsePath) : body;
      answers.set(
        key.cacheKey,
        value === undefined
          ? {
              kind: 'failed',
              error: { message: `the answer has nothing at "${params.responsePath}"`, code: 'lookup_path' },
              attempts: result.attempts,
            }
          : { kind: 'found', value, attempts: result.attempts },
      );
      return answers;
    }
    const list = params.resultsPath ? readPath(body, params.resultsPath) : body;
    if (!Array.isArray(list)) {
      const error = {
        message: `HTTP ${result.response.status}: the answer has no array at "${params.resultsPath ?? ''}"`,
        code: 'lookup_results',
      };
      for (const k of pending.keys) answers.set(k.cacheKey, { kind: 'failed', error, attempts: result.attempts });
      return answers;
    }
    const byId = new Map<string, unknown>();
    for (const entry of list) {
      const id = readPath(entry, params.resultKeyField);
      if (typeof id === 'string' || typeof id === 'number') byId.set(String(id), entry);
    }
    for (const k of pending.keys) {
      answers.set(
        k.cacheKey,
        byId.has(k.id)
          ? { kind: 'found', value: byId.get(k.id), attempts: result.attempts }
          : { kind: 'missing', attempts: result.attempts },
      );
    }
    return answers;
  };

  /** The requests the misses need: one per URL, or per URL and group of `batchSize` keys. */
  const plan = (misses: Map<string, { url: string; id: string }>): Pending[] => {
    if (!batchMode) return [...misses].map(([cacheKey, m]) => ({ url: m.url, keys: [{ cacheKey, id: m.id }] }));
    const byUrl = new Map<string, Pending['keys']>();
    for (const [cacheKey, m] of misses) {
      const keys = byUrl.get(m.url) ?? [];
      keys.push({ cacheKey, id: m.id });
      byUrl.set(m.url, keys);
    }
    const out: Pending[] = [];
    for (const [url, keys] of byUrl)
      for (let i = 0; i < keys.length; i += params.batchSize)
        out.push({ url, keys: keys.slice(i, i + params.batchSize) });
    return out;
  };

  const resolveAll = async (items: Item[], target: Target): Promise<(Answer | RecordError)[]> => {
    const lookups = items.map((item) => lookupOf(item, target));
    const promises = new Map<string, Promise<Answer>>();
    const misses = new Map<string, { url: string; id: string }>();
    const settlers = new Map<string, (answer: Answer) => void>();
    let hits = 0;
    for (const lookup of lookups) {
      if ('error' in lookup) continue;
      const known = promises.get(lookup.cacheKey) ?? cache?.get(lookup.cacheKey);
      if (known) {
        hits++;
        promises.set(lookup.cacheKey, known);
        continue;
      }
      const promise = new Promise<Answer>((resolve) => settlers.set(lookup.cacheKey, resolve));
      promises.set(lookup.cacheKey, promise);
      cache?.set(lookup.cacheKey, promise);
      misses.set(lookup.cacheKey, { url: lookup.url, id: lookup.id });
    }
    ctx.countCacheHits(hits);
    const queue = plan(misses);
    let next = 0;
    const worker = async () => {
      for (;;) {
        await ctx.boundary();
        const pending = queue[next++];
        if (!pending) return;
        let answers: Map<string, Answer>;
        try {
          answers = await fetchOne(pending, target);
        } catch (err) {
          // cancelled: nothing is kept, and the records waiting on these keys stop with the run
          for (const k of pending.keys) cache?.delete(k.cacheKey);
          const error = { message: (err as Error).message, code: 'cancelled' };
          for (const k of pending.keys) settlers.get(k.cacheKey)?.({ kind: 'failed', error, attempts: 0 });
          throw err;
        }
        for (const [cacheKey, answer] of answers) {
          // a failure is not an answer worth keeping: a later record asks again
          if (answer.kind === 'failed') cache?.delete(cacheKey);
          settlers.get(cacheKey)?.(answer);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(params.concurrency, queue.length) }, worker));
    return Promise.all(
      lookups.map((lookup) => ('error' in lookup ? lookup.error : (promises.get(lookup.cacheKey) as Promise<Answer>))),
    );
  };

  return {
    async process(items) {
      if (items.length === 0) return;
      const target = resolveTarget(ctx, params);
      const answers = await resolveAll(items, target);
      let ok: Item[] = [];
      for (const [i, item] of items.entries()) {
        const answer = answers[i] as Answer | RecordError;
        const failure = failureOf(answer, params);
        if (failure) {
          if (ok.length) await ctx.emit('out', ok);
          ok = [];
          await ctx.fail(item, failure.error, failure.attempts);
          continue;
        }
        const a = answer as Answer;
        item.attempts = a.attempts;
        ok.push({ ...item, data: withPath(item.data, params.into, a.kind === 'found' ? a.value : null) });
      }
      if (ok.length) await ctx.emit('out', ok);
    },
  };
};

/** Why a record fails with this answer, or undefined when it goes on. */
function failureOf(answer: Answer | RecordError, params: Params): { error: RecordError; attempts: number } | undefined {
  if (!('kind' in answer)) return { error: answer, attempts: 0 };
  if (answer.kind === 'failed') return { error: answer.error, attempts: answer.attempts };
  if (answer.kind === 'missing' && params.notFound === 'fail') {
    const error = answer.error ?? {
      message: 'not found: the answer has no entry for this key',
      code: 'lookup_not_found',
    };
    return { error, attempts: answer.attempts };
  }
  return undefined;
}

/** The record with `value` at a dotted path: the objects on the way are copied, the input is left as it was. */
function withPath(data: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = path.split('.') as [string, ...string[]];
  if (rest.length === 0) return { ...data, [head]: value };
  const inner = data[head];
  const object =
    inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? (inner as Record<string, unknown>) : {};
  return { ...data, [head]: withPath(object, rest.join('.'), value) };
}
