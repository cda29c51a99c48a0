import { z } from 'zod';
import { defineNodeType } from './define.js';

export const filter = defineNodeType({
  type: 'filter',
  group: 'flow control',
  label: 'Filter',
  description: 'Lets through records for which the condition is true; the others count as filtered.',
  params: z.strictObject({
    condition: z.string().min(1, 'must not be empty').describe('JSONata expression, e.g. `status = "open"`.'),
  }),
  input: true,
  outputs: ['out', 'error'],
});
