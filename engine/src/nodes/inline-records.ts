import type { NodeFactory } from '../runtime.js';

interface Params {
  records: Record<string, unknown>[];
  keyField?: string;
}

/** Emits the records typed into the flow, once per activation. */
export const inlineRecords: NodeFactory = (ctx, raw) => {
  const params = raw as unknown as Params;
  return {
    async process(activations) {
      for (const _ of activations) await ctx.emitPage(params.records, params.keyField, 0);
    },
  };
};
