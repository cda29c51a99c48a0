import { sleepUntil } from '../clock.js';
import type { NodeFactory } from '../runtime.js';

/**
 * Waits between consecutive groups of records (batches, when placed after a batch node). The gap
 * is measured from the moment everything downstream finished with one group to the moment the next
 * group is let through, so it is never shorter than configured.
 */
export const delay: NodeFactory = (ctx, raw) => {
  const ms = (raw as { ms: number }).ms;
  let lastFinishedAt: number | undefined;
  return {
    async process(items) {
      if (lastFinishedAt !== undefined) {
        const since = Math.max(lastFinishedAt, ctx.lastBatchEnd() ?? lastFinishedAt);
        await sleepUntil(ctx.clock, since + ms, ctx.signal);
      }
      const batchNo = items[0]?.batchNo;
      if (batchNo) ctx.batchReleased(batchNo);
      await ctx.emit('out', items);
      lastFinishedAt = ctx.clock.now();
    },
  };
};
