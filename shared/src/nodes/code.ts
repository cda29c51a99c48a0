import { z } from 'zod';
import { wholeNumber } from './common.js';
import { defineNodeType } from './define.js';

export const code = defineNodeType({
  type: 'code',
  group: 'shaping',
  label: 'Code',
  description:
    'Runs JavaScript for each record in a sandbox with no process, files or network, within a time and a memory limit. A record whose code throws or runs over fails alone with the message.',
  params: z.strictObject({
    code: z
      .string()
      .min(1, 'must not be empty')
      .describe(
        'JavaScript function body: `record` is the record; return the new record (an object), or null to drop it. E.g. `return { ...record, total: record.qty * record.price }`.',
      )
      .meta({ language: 'javascript' }),
    timeoutMs: wholeNumber(1, 10_000).default(1_000).describe('Longest time the code may run for one record, in ms.'),
    memoryMb: wholeNumber(1, 1_024)
      .default(32)
      .describe('Most memory the code may use for one record, in MB.')
      .meta({ title: 'Memory (MB)' }),
  }),
  input: true,
  outputs: ['out', 'error'],
});
