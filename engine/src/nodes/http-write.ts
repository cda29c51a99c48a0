import type { RetryPolicy } from '../retry.js';
import type { NodeFactory } from '../runtime.js';
import { callWithRetry, resolveTarget } from './http.js';

interface Params {
  connection?: string;
  url: string;
  method: 'POST' | 'PUT' | 'PATCH';
  idempotencyHeader: string;
  timeoutMs: number;
  retry: RetryPolicy;
}

/**
 * Writes each record as a JSON body, in order. The idempotency key names the run, the node and the
 * record, so a batch replayed after a crash does not write twice.
 */
export const httpWrite: NodeFactory = (ctx, raw) => {
  const params = raw as unknown as Params;
  return {
    async process(items) {
      const target = resolveTarget(ctx, params);
      for (const item of items) {
        const result = await callWithRetry(
          ctx,
          {
            method: params.method,
            url: target.url,
            headers: {
              'content-type': 'application/json',
              accept: 'application/json',
              ...target.headers,
              [params.idempotencyHeader]: `${ctx.runId}:${ctx.node.id}:${item.seq}`,
            },
            body: JSON.stringify(item.data),
            timeoutMs: params.timeoutMs,
          },
          params.retry,
        );
        if (result.ok) {
          item.attempts = result.attempts;
          await ctx.emit('out', [item]);
        } else {
          await ctx.fail(item, result.error, result.attempts);
        }
      }
    },
  };
};
