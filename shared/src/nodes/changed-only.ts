import { z } from 'zod';
import { defineNodeType } from './define.js';

export const changedOnly = defineNodeType({
  type: 'changed-only',
  group: 'shaping',
  label: 'Changed only',
  description:
    'Lets through only new records and records whose content changed since the last successful run of this flow (by record key); the others count as filtered, with the reason.',
  params: z.strictObject({
    content: z
      .string()
      .min(1)
      .optional()
      .describe(
        'JSONata expression giving what is compared, e.g. `{ "title": title, "status": status }`. Empty: the whole record.',
      ),
  }),
  input: true,
  outputs: ['out', 'error'],
});
