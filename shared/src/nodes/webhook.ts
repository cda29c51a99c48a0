import { z } from 'zod';
import { keyFieldParam, wholeNumber } from './common.js';
import { defineNodeType } from './define.js';

export const webhookTrigger = defineNodeType({
  type: 'webhook',
  group: 'triggers',
  label: 'Webhook',
  description:
    'Starts a run of the published version over the records POSTed to the flow’s hook URL (a JSON array or JSON lines), signed with the hook’s secret.',
  params: z.strictObject({
    keyField: keyFieldParam,
    maxBodyBytes: wholeNumber(1, 100 * 1024 * 1024)
      .default(10 * 1024 * 1024)
      .describe('Largest body accepted, in bytes; a larger one is answered 413.'),
  }),
  input: false,
  outputs: ['out'],
  role: 'trigger',
  providesRecords: true,
});
