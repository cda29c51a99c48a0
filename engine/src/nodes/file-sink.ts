import type { FilePort } from '../files.js';
import { formatCsvRow } from '../files.js';
import type { NodeFactory, WriteContext } from '../runtime.js';

interface State {
  columns?: string[];
  /** Where the file ends after the lines of this run's records so far (bytes). */
  offset?: number;
}

const utf8 = new TextEncoder();

/**
 * Appends each group of records it receives to a file in one write, then marks them done. A CSV
 * file that is new (missing or empty) gets a header row first. A write that fails fails the group.
 *
 * Exactly once across a crash: before its first line the sink stores where the file ends (its
 * state, with the run's checkpoint), and every checkpoint after carries where it ends after the
 * lines of the records settled so far. A resumed run first cuts the file back to that offset, so
 * the lines of records it processes again are written once.
 */
export const fileSink: NodeFactory<'file-sink', WriteContext> = (ctx, params, restored) => {
  const saved = restored as State | undefined;
  let columns = params.columns?.length ? params.columns : saved?.columns;
  let offset = saved?.offset;
  /** The file ends at `offset` (cut back on resume) and `offset` is stored: lines may be appended. */
  let ready = false;

  const prepare = async (files: FilePort): Promise<number> => {
    if (ready && offset !== undefined) return offset;
    if (offset === undefined) {
      offset = (await files.size(params.path)) ?? 0;
      await ctx.saveState();
    } else {
      // lines written after the last checkpoint belong to records this run processes again; a file
      // someone cut shorter meanwhile (or removed) is taken as it is
      const size = (await files.size(params.path)) ?? 0;
      if (size > offset) await files.truncate(params.path, offset);
      else offset = size;
    }
    ready = true;
    return offset;
  };

  return {
    async process(items) {
      if (items.length === 0) return;
      const files = ctx.connectors.files;
      const lines: string[] = [];
      try {
        if (!files) throw new Error('this server gives flows no file access');
        const end = await prepare(files);
        if (params.format === 'jsonl') {
          for (const item of items) lines.push(JSON.stringify(item.data));
        } else {
          if (!columns) columns = Object.keys((items[0] as (typeof items)[0]).data);
          if (end === 0) lines.push(formatCsvRow(columns, params.delimiter));
          const cols = columns;
          for (const item of items)
            lines.push(
              formatCsvRow(
                cols.map((c) => item.data[c]),
                params.delimiter,
              ),
            );
        }
        const text = lines.join('\n');
        try {
          await files.append(params.path, lines);
        } catch (err) {
          ready = false; // a part may have been written: the next group cuts the file back first
          throw err;
        }
        offset = end + utf8.encode(text).length + 1;
      } catch (err) {
        const error = { message: `cannot write ${params.path}: ${(err as Error).message}`, code: 'file_write' };
        for (const item of items) await ctx.fail(item, error, 1);
        return;
      }
      ctx.done(items);
    },
    async finish() {
      // a resumed run whose remaining records never reach the sink still takes back what it wrote
      const files = ctx.connectors.files;
      if (!ready && saved?.offset !== undefined && files) await prepare(files);
    },
    state: (): State | undefined => {
      const state: State = {};
      if (columns && !params.columns?.length) state.columns = columns;
      if (offset !== undefined) state.offset = offset;
      return state.columns || state.offset !== undefined ? state : undefined;
    },
  };
};
