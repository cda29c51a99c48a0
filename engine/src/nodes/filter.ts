import { compileExpression, isPromise } from '../expressions.js';
import type { Item, NodeFactory, TransformContext } from '../runtime.js';

/** Passes records whose condition is truthy; the rest count as filtered. */
export const filter: NodeFactory<'filter', TransformContext> = (ctx, params) => {
  const condition = compileExpression(params.condition);
  return {
    async process(items) {
      const pass: Item[] = [];
      const dropped: Item[] = [];
      for (const item of items) {
        try {
          let result = condition.evaluate(item.data);
          if (isPromise(result)) result = await result;
          (result ? pass : dropped).push(item);
        } catch (err) {
          await ctx.fail(item, { message: (err as Error).message, code: 'expression' }, 1);
        }
      }
      if (dropped.length) ctx.drop(dropped);
      if (pass.length) await ctx.emit('out', pass);
    },
  };
};
