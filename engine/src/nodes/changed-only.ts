import { compileExpression, type Expression, isPromise } from '../expressions.js';
import { canonicalJson } from '../record-key.js';
import type { Item, NodeFactory, ShapingContext } from '../runtime.js';

const HASH_CHARS = 16;

/**
 * Lets through records that are new or whose content changed since the flow's last successful runs,
 * by record key: the content's hash (8 bytes of the SHA-256 of its canonical JSON) against the current
 * one. The run's hashes of what it let through are staged as it goes and become current only when it
 * succeeds (the server does that), so a failed run, or one resumed, compares against the same ones.
 */
export const changedOnly: NodeFactory<'changed-only', ShapingContext> = (ctx, params) => {
  const content: Expression | undefined = params.content ? compileExpression(params.content) : undefined;
  const nodeId = ctx.node.id;

  const hashOf = async (item: Item) => {
    let value: unknown = item.data;
    if (content) {
      value = content.evaluate(item.data);
      if (isPromise(value)) value = await value;
    }
    return ctx.hash(canonicalJson(value ?? null)).slice(0, HASH_CHARS);
  };

  return {
    async process(items) {
      const { changes } = ctx;
      const hashed: [Item, string][] = [];
      for (const item of items) {
        if (!changes) {
          await ctx.fail(
            item,
            { message: 'changed-only nodes need stored hashes, and this run has none', code: 'no_hashes' },
            1,
          );
          continue;
        }
        try {
          hashed.push([item, await hashOf(item)]);
        } catch (err) {
          await ctx.fail(item, { message: (err as Error).message, code: 'expression' }, 1);
        }
      }
      if (!changes || hashed.length === 0) return;
      const current = await changes.current(nodeId, [...new Set(hashed.map(([item]) => item.key))]);
      const pass: Item[] = [];
      const same: Item[] = [];
      const staged: [string, string][] = [];
      for (const [item, hash] of hashed) {
        if (current.get(item.key) === hash) same.push(item);
        else {
          pass.push(item);
          staged.push([item.key, hash]);
        }
      }
      if (staged.length) await changes.stage(nodeId, staged);
      if (same.length)
        ctx.dropWith(same, () => ({ message: 'unchanged since the last successful run', code: 'unchanged' }));
      if (pass.length) await ctx.emit('out', pass);
    },
  };
};
