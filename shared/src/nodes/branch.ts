import { z } from 'zod';
import { defineNodeType } from './define.js';

export const branch = defineNodeType({
  type: 'branch',
  group: 'flow control',
  label: 'Branch',
  description: 'Sends each record to `true` or `false` by a condition.',
  params: z.strictObject({
    condition: z.string().min(1, 'must not be empty').describe('JSONata expression, e.g. `priority > 2`.'),
  }),
  input: true,
  outputs: ['true', 'false', 'error'],
});
