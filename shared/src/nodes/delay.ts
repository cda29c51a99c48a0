import { z } from 'zod';
import { wholeNumber } from './common.js';
import { defineNodeType } from './define.js';

export const delay = defineNodeType({
  type: 'delay',
  group: 'flow control',
  label: 'Delay',
  description:
    'Waits between consecutive batches: from the moment everything downstream finished with one batch to the moment the next batch is let through.',
  params: z.strictObject({
    ms: wholeNumber(0, 86_400_000).default(1000).describe('Wait between batches, in milliseconds.'),
  }),
  input: true,
  outputs: ['out'],
});
