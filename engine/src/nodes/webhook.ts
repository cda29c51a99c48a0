import type { NodeFactory, SourceContext } from '../runtime.js';

const PAGE = 500;

/** Emits the records the run was started with (a webhook's body), a page at a time, resumable by position. */
export const webhook: NodeFactory<'webhook', SourceContext> = (ctx, params) => {
  return {
    async process() {
      const inputs = ctx.inputs();
      if (!inputs) return;
      let at = (ctx.startCursor() as number | undefined) ?? 0;
      for (;;) {
        const page = await inputs.read(at, PAGE);
        if (page.length === 0) return;
        await ctx.emitPage(page, params.keyField, at);
        at += page.length;
      }
    },
  };
};
