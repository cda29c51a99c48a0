import type { NodeFactory, WriteContext } from '../runtime.js';

/** Keeps the records that reach it with the run. */
export const collect: NodeFactory<'collect', WriteContext> = (ctx) => ({
  async process(items) {
    ctx.collect(items, (item) => item.data);
    ctx.done(items);
  },
});
