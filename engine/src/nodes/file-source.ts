import type { RecordError } from '@sluice/shared';
import { csvRecords, type FileRecord, jsonlRecords, readLines } from '../files.js';
import type { NodeFactory, SourceContext } from '../runtime.js';
import { SourceError } from './http-source.js';

/** Where a page starts: its first line, and the CSV field names (the header is not read again). */
export interface FileCursor {
  offset: number;
  line: number;
  columns?: string[];
}

/**
 * Streams a CSV or JSON-lines file a page at a time (one page of records in memory). A page's
 * cursor is the byte offset and number of its first line, so a resumed run reads from there.
 */
export const fileSource: NodeFactory<'file-source', SourceContext> = (ctx, params) => {
  const emit = async (page: FileRecord[], cursor: FileCursor): Promise<void> => {
    const records: Record<string, unknown>[] = [];
    const failures = new Map<number, RecordError>();
    for (const r of page) {
      if (r.ok) records.push(r.record);
      else {
        failures.set(records.length, { message: r.error, code: 'malformed_line' });
        records.push({ line: r.line, raw: r.raw });
      }
    }
    await ctx.emitPage(records, params.keyField, cursor, failures.size ? failures : undefined);
  };

  return {
    async process(activations) {
      const files = ctx.connectors.files;
      if (!files) throw new SourceError(`source "${ctx.node.id}": this server gives flows no file access`);
      for (const _ of activations) {
        const start = (ctx.startCursor() as FileCursor | undefined) ?? { offset: 0, line: 1 };
        let columns = start.columns;
        const lines = readLines(files.read(params.path, start.offset), start);
        const records =
          params.format === 'jsonl'
            ? jsonlRecords(lines)
            : csvRecords(lines, {
                delimiter: params.delimiter,
                quote: params.quote,
                header: params.header,
                columns,
              });
        const iterator = records[Symbol.asyncIterator]();
        let page: FileRecord[] = [];
        let cursor: FileCursor = start;
        try {
          for (;;) {
            let next: IteratorResult<FileRecord | { columns: string[] }>;
            try {
              next = await iterator.next();
            } catch (err) {
              throw new SourceError(`source "${ctx.node.id}" could not read ${params.path}: ${(err as Error).message}`);
            }
            if (next.done) break;
            const r = next.value;
            if ('columns' in r) {
              columns = r.columns;
              continue;
            }
            if (page.length === 0) cursor = { offset: r.offset, line: r.line, ...(columns ? { columns } : {}) };
            page.push(r);
            if (page.length >= params.pageSize) {
              await emit(page, cursor);
              page = [];
            }
          }
          if (page.length) await emit(page, cursor);
        } finally {
          await iterator.return?.(undefined); // closes the file when the run stops early
        }
      }
    },
  };
};
