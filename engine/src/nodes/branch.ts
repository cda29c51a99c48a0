import { compileExpression, isPromise } from '../expressions.js';
import type { Item, NodeFactory, TransformContext } from '../runtime.js';

/** Routes each record to `true` or `false` by its condition, keeping read order within each port. */
export const branch: NodeFactory<'branch', TransformContext> = (ctx, params) => {
  const condition = compileExpression(params.condition);
  return {
    async process(items) {
      const yes: Item[] = [];
      const no: Item[] = [];
      for (const item of items) {
        try {
          let result = condition.evaluate(item.data);
          if (isPromise(result)) result = await result;
          (result ? yes : no).push(item);
        } catch (err) {
          await ctx.fail(item, { message: (err as Error).message, code: 'expression' }, 1);
        }
      }
      if (yes.length) await ctx.emit('true', yes);
      if (no.length) await ctx.emit('false', no);
    },
  };
};
