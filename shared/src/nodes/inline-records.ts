import { z } from 'zod';
import { keyFieldParam } from './common.js';
import { defineNodeType } from './define.js';

export const inlineRecords = defineNodeType({
  type: 'inline-records',
  group: 'sources',
  label: 'Inline records',
  description: 'Records typed into the flow itself: for tests, samples and small fixed lists.',
  params: z.strictObject({
    records: z.array(z.record(z.string(), z.unknown())).default([]).describe('The records, as JSON objects.'),
    keyField: keyFieldParam,
  }),
  input: true,
  outputs: ['out'],
  role: 'source',
});
