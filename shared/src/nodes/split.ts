import { z } from 'zod';
import { defineNodeType } from './define.js';

export const split = defineNodeType({
  type: 'split',
  group: 'shaping',
  label: 'Split',
  description:
    'Turns an array field into one record per element, keyed `record key#index`, with the parent fields you choose. The elements travel as parts of their record: it settles when all of them have.',
  params: z.strictObject({
    field: z
      .string()
      .min(1, 'must not be empty')
      .describe('Field holding the array, e.g. `lines` (dots reach into nested objects).'),
    as: z.string().min(1).optional().describe('Field each element is put in. Empty: the array field’s own name.'),
    merge: z
      .boolean()
      .default(false)
      .describe('Merge the fields of an object element into the record instead of putting it in a field.'),
    keep: z
      .array(z.string().min(1))
      .optional()
      .describe('Parent fields copied into every element’s record. Empty: all of them but the array.'),
    indexField: z.string().min(1).optional().describe('Field set to the element’s position in the array (from 0).'),
  }),
  input: true,
  outputs: ['out', 'error'],
});
