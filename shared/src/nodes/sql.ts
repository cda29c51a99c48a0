import { z } from 'zod';
import { keyFieldParam, retryParams, wholeNumber } from './common.js';
import { defineNodeType } from './define.js';

/**
 * Table and column names are written into SQL text (values never are: they are always bound), so
 * they are held to plain identifiers: letters, digits and `_`, not starting with a digit.
 */
export const SQL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** A table: an identifier, or schema.table. */
export const SQL_TABLE = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/;

const IDENTIFIER_MESSAGE = 'must be a plain SQL name: letters, digits and _, not starting with a digit (e.g. order_id)';

/** Whether a column name may be written into SQL text. */
export function isSqlIdentifier(name: string): boolean {
  return SQL_IDENTIFIER.test(name);
}

const column = z.string().regex(SQL_IDENTIFIER, IDENTIFIER_MESSAGE);
const table = z
  .string()
  .regex(SQL_TABLE, 'must be a plain SQL table name, or schema.table: letters, digits and _ (e.g. public.orders)');

const sqlRetry = retryParams.describe(
  'Retries after a lost connection or a timeout; a row the database refuses fails at once.',
);

const sqlConnection = z
  .string()
  .min(1)
  .describe('Name of a connection of kind postgres or mysql (host, port, database, user, password, TLS).');

export const sqlSource = defineNodeType({
  type: 'sql-source',
  group: 'sources',
  label: 'SQL source',
  description:
    'Reads rows from a PostgreSQL or MySQL/MariaDB table (or a SELECT) page by page, by keyset on a unique key column (WHERE key > last ORDER BY key LIMIT page size, never OFFSET), one page ahead of what downstream has taken. A resumed run re-reads from the page it was on.',
  params: z
    .strictObject({
      connection: sqlConnection,
      table: table.optional().describe('Table to read. Leave empty to read a SELECT instead.'),
      query: z
        .string()
        .regex(/^\s*(select|with)\b/i, 'must be a SELECT (or WITH … SELECT) statement')
        .refine((q) => !q.includes(';'), 'must be one statement, without ";"')
        .optional()
        .describe(
          'A SELECT to read instead of a table; it is read as a subquery, paged by its key column (which it must return).',
        )
        .meta({ title: 'SELECT', language: 'sql' }),
      columns: z.array(column).default([]).describe('Columns read from the table. Empty: all (*).'),
      keyColumn: column.describe('Unique, non-null column the pages are cut by (e.g. id).'),
      keyField: keyFieldParam,
      pageSize: wholeNumber(1, 100_000).default(1000).describe('Rows read per page.'),
      incremental: z
        .strictObject({
          column: column.describe('Column that says when a row last changed (a time or an increasing number).'),
          initial: z
            .string()
            .min(1)
            .optional()
            .describe('Watermark of the first run; none: the first run reads everything.'),
        })
        .optional()
        .describe(
          'Incremental sync: read only rows whose column is greater than the largest value the last successful run read (kept per flow and source node; it advances only when a run succeeds).',
        ),
    })
    .superRefine((value, ctx) => {
      if ((value.table === undefined) === (value.query === undefined))
        ctx.addIssue({ code: 'custom', path: ['table'], message: 'give a table or a SELECT (query), not both' });
      if (value.query !== undefined && value.columns.length)
        ctx.addIssue({ code: 'custom', path: ['columns'], message: 'a SELECT names its own columns' });
    }),
  input: true,
  outputs: ['out'],
  role: 'source',
});

export const sqlWrite = defineNodeType({
  type: 'sql-write',
  group: 'sinks',
  label: 'SQL write',
  description:
    'Writes records as rows of a PostgreSQL or MySQL/MariaDB table: insert, upsert (ON CONFLICT / ON DUPLICATE KEY UPDATE) or update by key, one transaction per group of records. A row the database refuses (a constraint) fails alone with its message; the others commit. Upsert writes a row only when its values change, so a resumed run writes nothing twice.',
  params: z
    .strictObject({
      connection: sqlConnection,
      table: table.describe('Table written to.'),
      mode: z
        .enum(['insert', 'upsert', 'update'])
        .default('upsert')
        .describe('insert: new rows. upsert: insert, or update the row with the same key. update: by key only.'),
      keyColumns: z
        .array(column)
        .default([])
        .describe('Key columns (upsert and update): a unique or primary key of the table.'),
      columns: z
        .array(column)
        .default([])
        .describe('Columns written, each from the record field of the same name. Empty: the fields of the records.'),
      counterColumn: column
        .optional()
        .describe(
          'Upsert and update: an integer column set to 1 on insert and raised by 1 each time a write changes the row.',
        ),
      batchSize: wholeNumber(1, 10_000).default(500).describe('Most records written in one transaction.'),
      retry: sqlRetry,
    })
    .superRefine((value, ctx) => {
      if (value.mode !== 'insert' && value.keyColumns.length === 0)
        ctx.addIssue({ code: 'custom', path: ['keyColumns'], message: `required for ${value.mode}` });
      if (value.counterColumn && value.mode === 'insert')
        ctx.addIssue({ code: 'custom', path: ['counterColumn'], message: 'only for upsert and update' });
    }),
  input: true,
  outputs: ['out', 'error'],
  role: 'sink',
});

export const sqlLookup = defineNodeType({
  type: 'sql-lookup',
  group: 'transform',
  label: 'SQL lookup',
  description:
    'Enriches records from a PostgreSQL or MySQL/MariaDB table: for each group of records one SELECT … WHERE key IN (…), and the matching row merged into each record (at a field, or onto the record).',
  params: z.strictObject({
    connection: sqlConnection,
    table: table.describe('Table looked up.'),
    keyColumn: column.describe('Column matched against the record field.'),
    field: z.string().min(1).describe('Field of the record whose value is looked up (e.g. customerId).'),
    columns: z.array(column).default([]).describe('Columns merged into the record. Empty: all.'),
    into: z
      .string()
      .min(1)
      .optional()
      .describe('Field the matching row is put in (null when none). Empty: its columns are merged onto the record.'),
    onMissing: z
      .enum(['pass', 'fail'])
      .default('pass')
      .describe('No matching row: pass the record on (with null at "into"), or fail it.'),
    retry: sqlRetry,
  }),
  input: true,
  outputs: ['out', 'error'],
});
