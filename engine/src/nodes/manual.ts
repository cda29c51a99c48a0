import type { NodeContext, NodeRuntime } from '../runtime.js';

/** A trigger passes its single activation on to the sources it is connected to. */
export const manual = (ctx: NodeContext): NodeRuntime => ({
  process: (items) => ctx.emit('out', items),
});
