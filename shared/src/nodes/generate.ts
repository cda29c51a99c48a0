import { z } from 'zod';
import { wholeNumber } from './common.js';
import { defineNodeType } from './define.js';

export const generate = defineNodeType({
  type: 'generate',
  group: 'sources',
  label: 'Generate records',
  description:
    'Generates synthetic records { key, index, group, amount, label }, lazily, a page at a time: for trying flows and for benchmarks.',
  params: z.strictObject({
    count: wholeNumber(0, 100_000_000).default(1000).describe('How many records to generate.'),
    pageSize: wholeNumber(1, 100_000).default(1000).describe('Records produced per page.'),
  }),
  input: true,
  outputs: ['out'],
  role: 'source',
});
