import { z } from 'zod';
import { connectionParams, requireConnectionOrAbsoluteUrl, retryParams, wholeNumber } from './common.js';
import { defineNodeType } from './define.js';

export const httpWrite = defineNodeType({
  type: 'http-write',
  group: 'sinks',
  label: 'HTTP write',
  description:
    'Sends each record as a JSON body, or (batch mode) the records it receives together as one JSON array. Sends an idempotency key (run, node, record or batch) so a replayed batch does not write twice. The URL may take values from the record: /work-orders/{externalKey}.',
  params: z
    .strictObject({
      ...connectionParams,
      method: z.enum(['POST', 'PUT', 'PATCH']).default('POST').describe('HTTP method.'),
      mode: z
        .enum(['record', 'batch'])
        .default('record')
        .describe(
          'record: one request per record. batch: one request per group of records (up to the batch size) whose body is the array of the records.',
        ),
      batchSize: wholeNumber(1, 10_000)
        .default(50)
        .describe('Batch mode: most records sent in one request; a larger group of records is split.')
        .meta({ when: { mode: 'batch' } }),
      bodyPath: z
        .string()
        .optional()
        .describe(
          'Batch mode: where the array goes in the body (e.g. "items" sends {"items": [...]}). Empty: the body is the array.',
        )
        .meta({ when: { mode: 'batch' } }),
      successStatuses: z
        .array(wholeNumber(100, 599))
        .min(1, 'must list at least one status')
        .optional()
        .describe('Response statuses that count as written (e.g. [200, 207]). Empty: any 2xx.'),
      resultsPath: z
        .string()
        .optional()
        .describe(
          'Batch mode: where the per-record results are in the response (e.g. "results"), aligned with the records by position unless resultKeyField is set. Empty: a successful response writes every record.',
        )
        .meta({ when: { mode: 'batch' } }),
      resultKeyField: z
        .string()
        .min(1)
        .optional()
        .describe(
          'Batch mode: field of each result naming its record, matched against that field of the record sent (else the record key). Empty: results are matched by position.',
        )
        .meta({ when: { mode: 'batch' } }),
      resultStatusPath: z
        .string()
        .min(1)
        .default('status')
        .describe('Batch mode: where a result has its status (a 2xx number, or a word like "ok" or "failed").')
        .meta({ when: { mode: 'batch' } }),
      resultOkPath: z
        .string()
        .min(1)
        .default('ok')
        .describe('Batch mode: where a result has a true/false success flag (used when it has one).')
        .meta({ when: { mode: 'batch' } }),
      resultErrorPath: z
        .string()
        .min(1)
        .default('error')
        .describe('Batch mode: where a failed result has its reason (text, or an object with a message).')
        .meta({ when: { mode: 'batch' } }),
      idempotencyHeader: z.string().min(1).default('Idempotency-Key').describe('Header carrying the idempotency key.'),
      recordKeyField: z
        .string()
        .min(1)
        .optional()
        .describe(
          'Batch mode: field in which each record of the body carries its own idempotency key (run, node, record), for systems that honour per-record keys: a resumed run that groups records differently then still writes each once. Empty: only the request carries a key.',
        )
        .meta({ when: { mode: 'batch' } }),
      timeoutMs: wholeNumber(1, 86_400_000).default(30_000).describe('Timeout of one request.'),
      concurrency: wholeNumber(1, 64)
        .default(1)
        .describe(
          'Requests (records, or batches in batch mode) sent at once; outcomes are still stored in record order.',
        ),
      retry: retryParams,
    })
    .superRefine(requireConnectionOrAbsoluteUrl),
  input: true,
  outputs: ['out', 'error'],
  role: 'sink',
});
