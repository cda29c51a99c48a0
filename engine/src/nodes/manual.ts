import type { NodeFactory } from '../runtime.js';

/** A trigger passes its single activation on to the sources it is connected to. */
export const manual: NodeFactory = (ctx) => ({
  process: (items) => ctx.emit('out', items),
});
