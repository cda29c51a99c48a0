import type { FlowControlContext, Item, NodeFactory } from '../runtime.js';

/** Buffers records into batches of `size`; batches span source pages; the last may be short. */
export const batch: NodeFactory<'batch', FlowControlContext> = (ctx, { size }) => {
  let buffer: Item[] = [];

  const release = async (items: Item[]) => {
    const batchNo = ctx.beginBatch(items.length);
    for (const item of items) item.batchNo = batchNo;
    await ctx.emit('out', items);
    await ctx.endBatch(batchNo);
  };

  return {
    async process(items) {
      for (const item of items) {
        buffer.push(item);
        if (buffer.length >= size) {
          const full = buffer;
          buffer = [];
          await release(full);
        }
      }
    },
    async finish() {
      if (buffer.length === 0) return;
      const rest = buffer;
      buffer = [];
      await release(rest);
    },
  };
};
