import { z } from 'zod';
import { wholeNumber } from './common.js';
import { defineNodeType } from './define.js';

export const delay = defineNodeType({
  type: 'delay',
  group: 'flow control',
  label: 'Delay',
  description:
    'Fixed: waits `ms` from the moment everything downstream finished with one batch to the moment the next batch is let through. Rate: lets at most `records` records through in any window of `intervalMs`.',
  params: z.strictObject({
    mode: z
      .enum(['fixed', 'rate'])
      .default('fixed')
      .describe('fixed: a wait between batches; rate: at most N records per interval, over any window.'),
    ms: wholeNumber(0, 86_400_000)
      .default(1000)
      .describe('Fixed mode: wait between batches, in milliseconds.')
      .meta({ title: 'Wait (ms)', when: { mode: 'fixed' } }),
    records: wholeNumber(1, 10_000_000)
      .default(100)
      .describe('Rate mode: most records let through per interval.')
      .meta({ title: 'Records per interval', when: { mode: 'rate' } }),
    intervalMs: wholeNumber(1, 86_400_000)
      .default(60_000)
      .describe('Rate mode: the interval, in milliseconds.')
      .meta({ when: { mode: 'rate' } }),
  }),
  input: true,
  outputs: ['out'],
});
