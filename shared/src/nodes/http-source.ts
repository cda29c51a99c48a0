import { z } from 'zod';
import { connectionParams, keyFieldParam, requireConnectionOrAbsoluteUrl, wholeNumber } from './common.js';
import { defineNodeType } from './define.js';

const pagination = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('none') }),
    z.strictObject({
      type: z.literal('token'),
      tokenPath: z
        .string()
        .min(1)
        .default('meta.continuation_token')
        .describe('Where the next continuation token is in the response body.'),
      tokenParam: z.string().min(1).default('continuation_token').describe('Query parameter the token is sent in.'),
    }),
    z.strictObject({
      type: z.literal('links-next'),
      nextPath: z.string().min(1).default('links.next').describe('Where the URL of the next page is.'),
    }),
  ])
  .default({ type: 'none' })
  .describe('How the source moves from one page to the next.');

export const httpSource = defineNodeType({
  type: 'http-source',
  group: 'sources',
  label: 'HTTP source',
  description: 'Reads records from an HTTP API page by page, one page ahead of what downstream has taken.',
  params: z
    .strictObject({
      ...connectionParams,
      query: z.record(z.string(), z.string()).default({}).describe('Query parameters sent with every page.'),
      recordsPath: z.string().default('data').describe('Where the records are in the response body.'),
      keyField: keyFieldParam,
      pageSize: wholeNumber(1, 10_000).default(100).describe('Records asked for per page.'),
      pageSizeParam: z.string().default('limit').describe('Query parameter that carries the page size.'),
      pagination,
      timeoutMs: wholeNumber(1, 86_400_000).default(30_000).describe('Timeout of one page request.'),
    })
    .superRefine(requireConnectionOrAbsoluteUrl),
  input: true,
  // A page that cannot be read after retries fails the run (there is no record to route).
  outputs: ['out'],
  role: 'source',
});
