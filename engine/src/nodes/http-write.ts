import type { RetryPolicy } from '../retry.js';
import type { Item, NodeFactory } from '../runtime.js';
import { type CallResult, callWithRetry, resolveTarget } from './http.js';

interface Params {
  connection?: string;
  url: string;
  method: 'POST' | 'PUT' | 'PATCH';
  idempotencyHeader: string;
  timeoutMs: number;
  concurrency: number;
  retry: RetryPolicy;
}

/**
 * Writes each record as a JSON body, `concurrency` at a time, and passes the results on in record
 * order. The idempotency key is derived from the run, the node and the record key, so a batch
 * replayed after a crash does not write twice.
 */
export const httpWrite: NodeFactory = (ctx, raw) => {
  const params = raw as unknown as Params;
  const write = (item: Item, target: ReturnType<typeof resolveTarget>): Promise<CallResult> =>
    callWithRetry(
      ctx,
      {
        method: params.method,
        url: target.url,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...target.headers,
          [params.idempotencyHeader]: `${ctx.runId}:${ctx.node.id}:${item.key}`,
        },
        body: JSON.stringify(item.data),
        timeoutMs: params.timeoutMs,
      },
      params.retry,
      target.breakerKey,
    );

  return {
    async process(items) {
      const target = resolveTarget(ctx, params);
      const results: CallResult[] = new Array(items.length);
      let next = 0;
      const worker = async () => {
        for (;;) {
          await ctx.boundary();
          const i = next++;
          if (i >= items.length) return;
          results[i] = await write(items[i] as Item, target);
        }
      };
      const workers = Array.from({ length: Math.min(params.concurrency, items.length) }, worker);
      await Promise.all(workers);
      let ok: Item[] = [];
      for (const [i, item] of items.entries()) {
        const result = results[i] as CallResult;
        item.attempts = result.attempts;
        if (result.ok) {
          ok.push(item);
          continue;
        }
        if (ok.length) await ctx.emit('out', ok);
        ok = [];
        await ctx.fail(item, result.error, result.attempts);
      }
      if (ok.length) await ctx.emit('out', ok);
    },
  };
};
