import { compileExpression, type Expression } from '../expressions.js';
import { writePath } from '../record-key.js';
import type { Item, NodeFactory } from '../runtime.js';

interface Params {
  fields: { name: string; expression: string }[];
  keep: 'all' | 'none';
  remove: string[];
}

/** Sets fields from JSONata expressions; a failing expression fails that record only. */
export const map: NodeFactory = (ctx, raw) => {
  const params = raw as unknown as Params;
  const fields = params.fields.map((f) => ({ name: f.name, expr: compileExpression(f.expression) }));

  const apply = async (item: Item): Promise<Record<string, unknown>> => {
    const out: Record<string, unknown> = params.keep === 'all' ? structuredClone(item.data) : {};
    for (const field of fields) await setField(out, field.name, field.expr, item.data);
    for (const name of params.remove) delete out[name];
    return out;
  };

  return {
    async process(items) {
      const ok: Item[] = [];
      for (const item of items) {
        try {
          ok.push({ ...item, data: await apply(item) });
        } catch (err) {
          if (ok.length) await ctx.emit('out', ok.splice(0));
          await ctx.fail(item, { message: (err as Error).message, code: 'expression' }, 1);
        }
      }
      if (ok.length) await ctx.emit('out', ok);
    },
  };
};

async function setField(out: Record<string, unknown>, name: string, expr: Expression, input: unknown) {
  let value: unknown;
  try {
    value = await expr.evaluate(input);
  } catch (err) {
    throw new Error(`field "${name}": ${(err as Error).message}`);
  }
  if (value !== undefined) writePath(out, name, value);
}
