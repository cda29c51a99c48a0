import { z } from 'zod';
import { wholeNumber } from './common.js';
import { defineNodeType } from './define.js';

export const batch = defineNodeType({
  type: 'batch',
  group: 'flow control',
  label: 'Batch',
  description: 'Groups records into batches of a fixed size (the last may be short). A batch is the unit of progress.',
  params: z.strictObject({
    size: wholeNumber(1, 100_000).default(50).describe('Records per batch.'),
  }),
  input: true,
  outputs: ['out'],
});
