import { z } from 'zod';
import { defineNodeType } from './define.js';

export const map = defineNodeType({
  type: 'map',
  group: 'transform',
  label: 'Map',
  description:
    'Sets, renames or computes fields with JSONata expressions evaluated against the record. An expression that fails fails that record only.',
  params: z.strictObject({
    fields: z
      .array(
        z.strictObject({
          name: z.string().min(1, 'must not be empty').describe('Field to set (dots make nested objects).'),
          expression: z
            .string()
            .min(1, 'must not be empty')
            .describe('JSONata expression, e.g. `title & " (" & code & ")"`.'),
        }),
      )
      .default([])
      .describe('Fields to set, in order.'),
    keep: z
      .enum(['all', 'none'])
      .default('all')
      .describe('Keep the fields of the input record (all), or output only the fields set here (none).'),
    remove: z.array(z.string().min(1)).default([]).describe('Fields to drop from the output.'),
  }),
  input: true,
  outputs: ['out', 'error'],
});
