import { z } from 'zod';
import { connectionParams, requireConnectionOrAbsoluteUrl, retryParams, wholeNumber } from './common.js';
import { defineNodeType } from './define.js';

export const httpWrite = defineNodeType({
  type: 'http-write',
  group: 'sinks',
  label: 'HTTP write',
  description:
    'Sends each record as a JSON body. Sends an idempotency key (run, record, node) so a replayed batch does not write twice.',
  params: z
    .strictObject({
      ...connectionParams,
      method: z.enum(['POST', 'PUT', 'PATCH']).default('POST').describe('HTTP method.'),
      idempotencyHeader: z.string().min(1).default('Idempotency-Key').describe('Header carrying the idempotency key.'),
      timeoutMs: wholeNumber(1, 86_400_000).default(30_000).describe('Timeout of one request.'),
      concurrency: wholeNumber(1, 64)
        .default(1)
        .describe('Records of a batch written at once; outcomes are still stored in record order.'),
      retry: retryParams,
    })
    .superRefine(requireConnectionOrAbsoluteUrl),
  input: true,
  outputs: ['out', 'error'],
  role: 'sink',
});
