import { z } from 'zod';
import { defineNodeType } from './define.js';

export const batch = defineNodeType({
  type: 'batch',
  group: 'flow control',
  label: 'Batch',
  description: 'Groups records into batches of a fixed size (the last may be short). A batch is the unit of progress.',
  params: z.strictObject({
    size: z.int('must be a whole number').min(1).max(100_000).default(50).describe('Records per batch.'),
  }),
  input: true,
  outputs: ['out'],
});
