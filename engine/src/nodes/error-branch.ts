import type { NodeFactory, TransformContext } from '../runtime.js';

/**
 * Receives failed records and passes on what a handler needs: the record as read, the payload that
 * failed, the error, the node and the attempt count.
 */
export const errorBranch: NodeFactory<'error-branch', TransformContext> = (ctx) => ({
  async process(items) {
    await ctx.emit(
      'out',
      items.map((item) => ({
        ...item,
        data: {
          key: item.key,
          record: item.source,
          payload: item.payload ?? item.data,
          error: item.error ?? { message: 'unknown error' },
          node: item.failedAt ?? null,
          attempts: item.attempts,
        },
      })),
    );
  },
});
