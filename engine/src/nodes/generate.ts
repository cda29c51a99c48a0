import type { NodeFactory, SourceContext } from '../runtime.js';

/** Produces `count` synthetic records a page at a time, only as fast as downstream takes them. */
export const generate: NodeFactory<'generate', SourceContext> = (ctx, { count, pageSize }) => {
  return {
    async process(activations) {
      for (const _ of activations) {
        const start = (ctx.startCursor() as number | undefined) ?? 0;
        for (let from = start; from < count; from += pageSize) {
          const page: Record<string, unknown>[] = [];
          for (let i = from; i < Math.min(count, from + pageSize); i++) page.push(syntheticRecord(i));
          await ctx.emitPage(page, 'key', from);
        }
      }
    },
  };
};

/** Record number i of the synthetic dataset. */
export function syntheticRecord(i: number): Record<string, unknown> {
  return { key: `rec-${i}`, index: i, group: i % 10, amount: (i * 7919) % 10_000, label: `Record ${i}` };
}
