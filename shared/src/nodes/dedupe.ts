import { z } from 'zod';
import { wholeNumber } from './common.js';
import { defineNodeType } from './define.js';

export const dedupe = defineNodeType({
  type: 'dedupe',
  group: 'shaping',
  label: 'Dedupe',
  description:
    'Lets through the first record of each key in a run; repeats count as filtered, with the reason. Survives a resume.',
  params: z.strictObject({
    key: z
      .string()
      .min(1)
      .optional()
      .describe('JSONata expression whose value is compared, e.g. `email`. Empty: the record key.'),
    maxKeys: wholeNumber(1, 1_000_000)
      .default(100_000)
      .describe('Most distinct keys kept in a run; a record with a new key past it fails with a clear message.'),
  }),
  input: true,
  outputs: ['out', 'error'],
});
