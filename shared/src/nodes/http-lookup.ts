import { z } from 'zod';
import { connectionParams, requireConnectionOrAbsoluteUrl, retryParams, wholeNumber } from './common.js';
import { defineNodeType } from './define.js';

const path = z.string().regex(/^[^.\s]+(\.[^.\s]+)*$/, 'must be a field path such as "asset" or "details.asset"');

export const httpLookup = defineNodeType({
  type: 'http-lookup',
  group: 'transform',
  label: 'HTTP lookup',
  description:
    'Enriches each record from another system: a GET built from the record (/assets/{assetKey}), or one GET per group of records where the API takes a list (?ids=a,b,c), and the answer merged into the record at a path. Answers are cached for the run by URL, so a key looked up again costs no request.',
  params: z
    .strictObject({
      ...connectionParams,
      mode: z
        .enum(['record', 'batch'])
        .default('record')
        .describe(
          'record: one GET per distinct URL (the URL may take values from the record: /assets/{assetKey}). batch: one GET per group of distinct keys, sent as a list in a query parameter (?ids=a,b,c).',
        ),
      into: path.describe('Where the answer goes in the record (e.g. "asset"); what was there is replaced.'),
      responsePath: z
        .string()
        .optional()
        .describe('Record mode: the part of the answer to merge (e.g. "data"). Empty: the whole answer.')
        .meta({ when: { mode: 'record' } }),
      keyField: path
        .optional()
        .describe('Batch mode: the record field whose value is looked up (e.g. "assetKey").')
        .meta({ when: { mode: 'batch' } }),
      listParam: z
        .string()
        .min(1)
        .default('ids')
        .describe('Batch mode: the query parameter that takes the comma-separated keys.')
        .meta({ when: { mode: 'batch' } }),
      batchSize: wholeNumber(1, 1000)
        .default(50)
        .describe('Batch mode: most keys asked for in one request.')
        .meta({ when: { mode: 'batch' } }),
      resultsPath: z
        .string()
        .optional()
        .describe(
          'Batch mode: where the array of answers is in the response (e.g. "data"). Empty: the response is the array.',
        )
        .meta({ when: { mode: 'batch' } }),
      resultKeyField: path
        .default('id')
        .describe('Batch mode: the field of each answer that holds its key, matched against the record’s key field.')
        .meta({ when: { mode: 'batch' } }),
      notFound: z
        .enum(['fail', 'null'])
        .default('fail')
        .describe(
          'A 404 (batch mode: a key the answer leaves out): fail the record, or pass it on with null at the path.',
        ),
      cacheSize: wholeNumber(0, 1_000_000)
        .default(10_000)
        .describe('Answers kept for the run, by URL (the least recently used go first). 0: no cache.'),
      timeoutMs: wholeNumber(1, 86_400_000).default(30_000).describe('Timeout of one request.'),
      concurrency: wholeNumber(1, 64)
        .default(4)
        .describe('Requests sent at once; records are still passed on in their order.'),
      retry: retryParams,
    })
    .superRefine(requireConnectionOrAbsoluteUrl)
    .superRefine((value, ctx) => {
      if (value.mode === 'batch' && !value.keyField)
        ctx.addIssue({ code: 'custom', path: ['keyField'], message: 'required in batch mode' });
    }),
  input: true,
  outputs: ['out', 'error'],
});
