import { z } from 'zod';
import { retryParams, wholeNumber } from './common.js';
import { defineNodeType } from './define.js';

/** The kinds of record of the unified maintenance/ERP API, each at `/api/eam/<entity>` and `/api/erp/<entity>`. */
export const ENTITIES = ['work-orders', 'assets', 'purchase-orders'] as const;
export type Entity = (typeof ENTITIES)[number];

const entityParam = z.enum(ENTITIES).describe('Kind of record: work-orders, assets or purchase-orders.');

const connectionParam = (fallback: string) =>
  z
    .string()
    .min(1)
    .default(fallback)
    .describe(
      `Connection to the unified API (base URL and bearer token); "${fallback}" is the built-in sandbox. Point it at a real unified-API base URL with a real token and the flow works unchanged.`,
    );

const isoInstant = z.string().refine((value) => /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value)), {
  message: 'must be an ISO 8601 instant, e.g. 2026-01-02T00:00:00Z',
});

export const entitySource = defineNodeType({
  type: 'entity-source',
  group: 'sources',
  label: 'Entity source',
  description:
    'Reads one kind of record (work orders, assets, purchase orders) from a unified maintenance API: GET /api/eam/<entity>, paged by continuation token, records keyed by "key". Only the connection says which system: the sandbox, or a real unified-API base URL with a real bearer token, with the same flow. Runs as an HTTP source.',
  params: z.strictObject({
    connection: connectionParam('maintenance-sandbox'),
    entity: entityParam,
    filters: z
      .strictObject({
        updatedAfter: isoInstant
          .optional()
          .describe('Only records updated strictly after this instant (sent as filter[updatedAt:gt]).'),
        sort: z
          .enum(['updatedAt', '-updatedAt'])
          .optional()
          .describe(
            'Order by last update, oldest first (updatedAt) or newest first (-updatedAt). Empty: the API order.',
          ),
      })
      .default({})
      .describe('Which records to read, and in which order.'),
    pageSize: wholeNumber(1, 1000).default(100).describe('Records asked for per page (sent as limit).'),
    maxPages: wholeNumber(1, 1_000_000_000)
      .default(1_000_000)
      .describe('Most pages one run reads; more fails the run (a guard against endless paging).'),
    timeoutMs: wholeNumber(1, 86_400_000).default(30_000).describe('Timeout of one page request.'),
  }),
  input: true,
  outputs: ['out'],
  role: 'source',
});

export const entityWrite = defineNodeType({
  type: 'entity-write',
  group: 'sinks',
  label: 'Entity write',
  description:
    'Writes one kind of record (work orders, assets, purchase orders) to a unified ERP API: POST /api/erp/<entity> per record, or POST /api/erp/<entity>/batch with {"items": [...]} and per-record results. Records the ERP rejects go to the error port with its reason; an idempotency key keeps a replay from writing twice. Only the connection says which system: the sandbox, or a real unified-API base URL with a real bearer token, with the same flow. Runs as an HTTP write.',
  params: z.strictObject({
    connection: connectionParam('erp-sandbox'),
    entity: entityParam,
    mode: z
      .enum(['record', 'batch'])
      .default('batch')
      .describe('record: one request per record. batch: one request per group of up to batchSize records.'),
    batchSize: wholeNumber(1, 1000).default(50).describe('Batch mode: most records sent in one request.'),
    concurrency: wholeNumber(1, 64).default(1).describe('Requests sent at once; outcomes are stored in record order.'),
    timeoutMs: wholeNumber(1, 86_400_000).default(30_000).describe('Timeout of one request.'),
    retry: retryParams,
  }),
  input: true,
  outputs: ['out', 'error'],
  role: 'sink',
});
