import type { Item, NewRecord, NodeFactory, ShapingContext } from '../runtime.js';

/**
 * One record per element of an array field, keyed `record key#index`, as parts of the record: it
 * settles once every element's path has ended (failed if any failed). An empty array drops the
 * record (filtered); a field that is not an array fails it.
 */
export const split: NodeFactory<'split', ShapingContext> = (ctx, params) => {
  const path = params.field.split('.');
  const as = params.as ?? (path[path.length - 1] as string);
  const top = path[0] as string;
  return {
    async process(items) {
      const empty: Item[] = [];
      for (const item of items) {
        const array = valueAt(item.data, path);
        if (!Array.isArray(array)) {
          const found = array === undefined ? 'nothing' : array === null ? 'null' : typeof array;
          await ctx.fail(
            item,
            { message: `field "${params.field}" holds ${found}, not an array`, code: 'not_array' },
            1,
          );
          continue;
        }
        if (array.length === 0) {
          empty.push(item);
          continue;
        }
        const base = kept(item.data, params.keep, top);
        const parts: NewRecord[] = array.map((element, i) => {
          const data: Record<string, unknown> = { ...base };
          if (params.merge && element !== null && typeof element === 'object' && !Array.isArray(element)) {
            Object.assign(data, element);
          } else data[as] = element;
          if (params.indexField) data[params.indexField] = i;
          return { key: `${item.key}#${i}`, data };
        });
        await ctx.emitParts(item, parts);
      }
      if (empty.length)
        ctx.dropWith(empty, () => ({
          message: `field "${params.field}" is an empty array: nothing to split`,
          code: 'empty_array',
        }));
    },
  };
};

/** The parent fields every element's record starts from. */
function kept(record: Record<string, unknown>, keep: string[] | undefined, arrayField: string) {
  const out: Record<string, unknown> = {};
  if (keep === undefined) {
    for (const [name, value] of Object.entries(record)) if (name !== arrayField) out[name] = value;
  } else {
    for (const name of keep) if (Object.hasOwn(record, name)) out[name] = record[name];
  }
  return out;
}

/** The value at a dotted path, or undefined. */
export function valueAt(record: unknown, path: readonly string[]): unknown {
  let current = record;
  for (const name of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, name)) return undefined;
    current = (current as Record<string, unknown>)[name];
  }
  return current;
}
