import type { CodeResult } from '../ports.js';
import type { Item, NodeFactory, ShapingContext } from '../runtime.js';

/** Records handed to the sandbox ahead of the one the node waits for. */
const AHEAD = 16;

/**
 * Runs the node's JavaScript for each record in the sandbox the server gives (no process, files or
 * network; a time and a memory limit per record). An object returned is the new record, null drops
 * the record; a throw, anything else returned, or a limit reached fails that record alone.
 */
export const code: NodeFactory<'code', ShapingContext> = (ctx, params) => {
  const request = { code: params.code, timeoutMs: params.timeoutMs, memoryBytes: params.memoryMb * 1024 * 1024 };
  return {
    async process(items) {
      const { sandbox } = ctx;
      // the next records are handed to the sandbox while this one runs, so it never waits between them
      const results: Promise<CodeResult>[] = [];
      const ask = (upTo: number) => {
        while (sandbox && results.length < Math.min(items.length, upTo)) {
          results.push(sandbox.run({ ...request, record: (items[results.length] as Item).data }));
        }
      };
      let ok: Item[] = [];
      const flush = async () => {
        if (ok.length) await ctx.emit('out', ok);
        ok = [];
      };
      for (const [i, item] of items.entries()) {
        ask(i + AHEAD);
        await ctx.boundary(); // a record may take up to its time limit: let the process breathe between them
        if (!sandbox) {
          await flush();
          await ctx.fail(
            item,
            { message: 'code nodes need a sandbox, and this process has none', code: 'no_sandbox' },
            1,
          );
          continue;
        }
        const result = await (results[i] as Promise<CodeResult>);
        if (result.ok && result.value === null) {
          ctx.dropWith([item], () => ({ message: 'the code returned null', code: 'dropped' }));
          continue;
        }
        if (result.ok && isRecord(result.value)) {
          ok.push({ ...item, data: result.value });
          continue;
        }
        await flush();
        const error = result.ok
          ? { message: `the code returned ${describe(result.value)}, not an object or null`, code: 'code_result' }
          : { message: result.message, code: `code_${result.reason}` };
        await ctx.fail(item, error, 1);
      }
      await flush();
    },
  };
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'a string' : String(typeof value);
}
