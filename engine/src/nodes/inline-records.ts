import type { NodeFactory, SourceContext } from '../runtime.js';

/** Emits the records typed into the flow, once per activation. */
export const inlineRecords: NodeFactory<'inline-records', SourceContext> = (ctx, params) => {
  return {
    async process(activations) {
      for (const _ of activations) await ctx.emitPage(params.records, params.keyField, 0);
    },
  };
};
