import { z } from 'zod';
import { defineNodeType } from './define.js';

export const errorBranch = defineNodeType({
  type: 'error-branch',
  group: 'errors',
  label: 'Error branch',
  description:
    'Receives failed records from error ports and passes on { record, error, node, attempts }: the original record, what went wrong, where, after how many attempts.',
  params: z.strictObject({}),
  input: true,
  outputs: ['out'],
  role: 'error-handler',
});
