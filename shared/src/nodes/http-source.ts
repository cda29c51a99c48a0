import { z } from 'zod';
import { connectionParams, keyFieldParam, requireConnectionOrAbsoluteUrl, wholeNumber } from './common.js';
import { defineNodeType } from './define.js';

const pagination = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('none') }).describe('One request; no paging.'),
    z
      .strictObject({
        type: z.literal('token'),
        tokenPath: z
          .string()
          .min(1)
          .default('meta.continuation_token')
          .describe('Where the next continuation token is in the response body.'),
        tokenHeader: z
          .string()
          .min(1)
          .optional()
          .describe('Response header that carries the next token instead (e.g. "X-Next-Token"); overrides tokenPath.'),
        tokenParam: z.string().min(1).default('continuation_token').describe('Name the token is sent under.'),
        send: z
          .enum(['query', 'body'])
          .default('query')
          .describe('Send the token as a query parameter, or as a field of the JSON body (POST sources).'),
      })
      .describe('Continuation token (cursor): each answer names the token of the next page; none means last page.'),
    z
      .strictObject({
        type: z.literal('page'),
        pageParam: z.string().min(1).default('page').describe('Query parameter with the page number.'),
        perPageParam: z.string().min(1).default('per_page').describe('Query parameter with the page size.'),
        firstPage: wholeNumber(0, 1)
          .default(1)
          .describe('Number of the first page (1, or 0 for APIs counting from 0).'),
        nextPath: z
          .string()
          .default('links.next')
          .describe('Where the URL of the next page is, if the API gives it; followed when present.'),
        lastPagePath: z
          .string()
          .default('meta.last_page')
          .describe('Where the number of the last page is; used when there is no next URL.'),
      })
      .describe('Page number and page size; stops at the last page, or at a short or empty page.'),
    z
      .strictObject({
        type: z.literal('link-header'),
        rel: z.string().min(1).default('next').describe('Relation of the Link header entry to follow.'),
      })
      .describe('RFC 8288 `Link: <url>; rel="next"` response header; no such link means last page.'),
    z
      .strictObject({
        type: z.literal('offset'),
        offsetParam: z
          .string()
          .min(1)
          .default('offset')
          .describe('Query parameter with the offset of the first record.'),
        limitParam: z.string().min(1).default('limit').describe('Query parameter with the page size.'),
      })
      .describe('Offset and limit; stops at a short or empty page.'),
    z
      .strictObject({
        type: z.literal('links-next'),
        nextPath: z.string().min(1).default('links.next').describe('Where the URL of the next page is.'),
      })
      .describe('Next page URL in the response body (same as "page" without page numbers).'),
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
      method: z.enum(['GET', 'POST']).default('GET').describe('GET, or POST for search endpoints that take a body.'),
      body: z.record(z.string(), z.unknown()).optional().describe('JSON body sent with every page (POST only).'),
      query: z.record(z.string(), z.string()).default({}).describe('Query parameters sent with every page.'),
      recordsPath: z
        .string()
        .default('data')
        .describe('Where the records are in the response body (e.g. "data", "items"; empty: the body itself).'),
      keyField: keyFieldParam,
      pageSize: wholeNumber(1, 10_000).default(100).describe('Records asked for per page.'),
      pageSizeParam: z
        .string()
        .default('limit')
        .describe('Query parameter that carries the page size (the page and offset strategies name their own).'),
      pagination,
      maxPages: wholeNumber(1, 1_000_000_000)
        .default(1_000_000)
        .describe('Most pages one run reads; more fails the run (a guard against endless paging).'),
      timeoutMs: wholeNumber(1, 86_400_000).default(30_000).describe('Timeout of one page request.'),
      incremental: z
        .strictObject({
          field: z
            .string()
            .min(1)
            .describe('Field of each record that says when it last changed (e.g. "updatedAt"; ISO time or number).'),
          param: z
            .string()
            .min(1)
            .describe('Query parameter the watermark is sent as (e.g. "modified_after" or "filter[updatedAt:gt]").')
            .meta({ title: 'Query parameter' }),
          initial: z
            .string()
            .min(1)
            .optional()
            .describe('Watermark of the first run; none: the first run reads everything.'),
        })
        .optional()
        .describe(
          'Incremental sync: read only records changed since the last successful run. The largest `field` value read is kept per flow and source node and sent as `param` by the next run; it advances only when a run succeeds.',
        ),
    })
    .superRefine(requireConnectionOrAbsoluteUrl)
    .superRefine((value, ctx) => {
      if (value.pagination.type === 'token' && value.pagination.send === 'body' && value.method !== 'POST') {
        ctx.addIssue({
          code: 'custom',
          path: ['pagination', 'send'],
          message: 'a token can only be sent in the body of a POST source',
        });
      }
      if (value.body !== undefined && value.method !== 'POST') {
        ctx.addIssue({ code: 'custom', path: ['body'], message: 'a body can only be sent with POST' });
      }
    }),
  input: true,
  // A page that cannot be read after retries fails the run (there is no record to route).
  outputs: ['out'],
  role: 'source',
});
