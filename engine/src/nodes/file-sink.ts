import { formatCsvRow } from '../files.js';
import type { NodeFactory, WriteContext } from '../runtime.js';

interface State {
  columns?: string[];
}

/**
 * Appends each group of records it receives to a file in one write, then marks them done. A CSV
 * file that is new (missing or empty) gets a header row first. A write that fails fails the group.
 */
export const fileSink: NodeFactory<'file-sink', WriteContext> = (ctx, params, restored) => {
  let columns = params.columns?.length ? params.columns : (restored as State | undefined)?.columns;
  let checkedNew = false;

  return {
    async process(items) {
      if (items.length === 0) return;
      const files = ctx.connectors.files;
      const lines: string[] = [];
      try {
        if (!files) throw new Error('this server gives flows no file access');
        if (params.format === 'jsonl') {
          for (const item of items) lines.push(JSON.stringify(item.data));
        } else {
          if (!columns) columns = Object.keys((items[0] as (typeof items)[0]).data);
          if (!checkedNew && !(await files.size(params.path))) {
            lines.push(formatCsvRow(columns, params.delimiter));
          }
          const cols = columns;
          for (const item of items)
            lines.push(
              formatCsvRow(
                cols.map((c) => item.data[c]),
                params.delimiter,
              ),
            );
        }
        await files.append(params.path, lines);
        checkedNew = true; // the file exists now: later groups of this run append rows only
      } catch (err) {
        const error = { message: `cannot write ${params.path}: ${(err as Error).message}`, code: 'file_write' };
        for (const item of items) await ctx.fail(item, error, 1);
        return;
      }
      ctx.done(items);
    },
    state: () => (columns && !params.columns?.length ? { columns } : undefined),
  };
};
