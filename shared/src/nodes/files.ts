import { z } from 'zod';
import { keyFieldParam, wholeNumber } from './common.js';
import { defineNodeType } from './define.js';

/** A path inside the server's files folder: relative, without `..` steps. */
const filePath = z
  .string()
  .min(1, 'must not be empty')
  .refine((p) => !/^([/\\]|[a-zA-Z]:)/.test(p), 'must be relative to the files folder (no leading "/" or drive)')
  .refine((p) => !p.split(/[/\\]/).includes('..'), 'must not contain ".." (it must stay inside the files folder)')
  .describe('Path of the file inside the server\'s files folder (SLUICE_FILES_DIR), e.g. "in/work-orders.csv".');

const formatParam = z
  .enum(['csv', 'jsonl'])
  .default('csv')
  .describe('csv: delimited text (RFC 4180 quoting). jsonl: one JSON object per line.');

const oneChar = (what: string) =>
  z
    .string()
    .length(1, `${what} must be exactly one character`)
    .refine((c) => c !== '\n' && c !== '\r', `${what} must not be a line break`);

const delimiterParam = oneChar('the delimiter')
  .default(',')
  .describe('CSV: the character between fields (e.g. "," ";" or a tab).');

export const fileSource = defineNodeType({
  type: 'file-source',
  group: 'sources',
  label: 'Read file',
  description:
    'Streams records from a CSV or JSON-lines file in the files folder, a page at a time (any size of file). CSV values are read as text. A malformed line (unterminated quote, wrong number of fields, invalid JSON) fails that record with its line number; the rest are read on.',
  params: z
    .strictObject({
      path: filePath,
      format: formatParam,
      delimiter: delimiterParam,
      header: z
        .boolean()
        .default(true)
        .describe('CSV: the first row names the fields. Off: fields are field1, field2, …'),
      quote: oneChar('the quote').default('"').describe('CSV: the character that quotes a field (doubled inside one).'),
      keyField: keyFieldParam,
      pageSize: wholeNumber(1, 100_000).default(500).describe('Records read per page.'),
    })
    .refine((p) => p.delimiter !== p.quote, { path: ['quote'], message: 'must differ from the delimiter' }),
  input: true,
  outputs: ['out', 'error'],
  role: 'source',
});

export const fileSink = defineNodeType({
  type: 'file-sink',
  group: 'sinks',
  label: 'Write file',
  description:
    'Appends the records it receives to a CSV or JSON-lines file in the files folder (created when missing), one write per group of records. A CSV file that is new gets a header row first.',
  params: z.strictObject({
    path: filePath,
    format: formatParam,
    delimiter: delimiterParam,
    columns: z
      .array(z.string().min(1))
      .optional()
      .describe('CSV: the fields written, in order. Empty: the fields of the first record written.'),
  }),
  input: true,
  outputs: ['error'],
  role: 'sink',
});
