import { z } from 'zod';
import { wholeNumber } from './common.js';
import { defineNodeType } from './define.js';

export const AGGREGATE_OPS = ['count', 'sum', 'min', 'max', 'first', 'last', 'collect'] as const;

export const aggregate = defineNodeType({
  type: 'aggregate',
  group: 'shaping',
  label: 'Aggregate',
  description:
    'Groups records by an expression, over each batch or the whole run, and sends one record per group with counts, sums, minima, maxima, first and last values or lists.',
  params: z.strictObject({
    groupBy: z
      .string()
      .min(1)
      .optional()
      .describe('JSONata expression whose value groups records, e.g. `site`. Empty: one group.'),
    scope: z
      .enum(['batch', 'run'])
      .default('batch')
      .describe('Aggregate each batch (sent when the batch ends) or the whole run (sent when every record is in).'),
    fields: z
      .array(
        z
          .strictObject({
            name: z.string().min(1, 'must not be empty').describe('Field of the group record.'),
            op: z.enum(AGGREGATE_OPS).describe('What to compute: count, sum, min, max, first, last or collect.'),
            value: z
              .string()
              .min(1)
              .optional()
              .describe('JSONata expression giving the value (not needed for count), e.g. `amount`.'),
          })
          .refine((f) => f.op === 'count' || f.value !== undefined, {
            path: ['value'],
            message: 'must be set unless the op is count',
          }),
      )
      .default([{ name: 'count', op: 'count' }])
      .describe('Fields of each group record, besides `group` (the value of Group by).'),
    maxGroups: wholeNumber(1, 100_000)
      .default(10_000)
      .describe('Most groups at once; a record that would open one more fails with a clear message.'),
    maxCollect: wholeNumber(1, 100_000)
      .default(1_000)
      .describe('Most values a collect field keeps per group; a record past it fails with a clear message.'),
  }),
  input: true,
  outputs: ['out', 'error'],
});
