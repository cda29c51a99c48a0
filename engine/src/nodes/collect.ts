import type { NodeFactory } from '../runtime.js';

/** Keeps the records that reach it with the run. */
export const collect: NodeFactory<'collect'> = (ctx) => ({
  async process(items) {
    ctx.collect(items, (item) => item.data);
    ctx.done(items);
  },
});
