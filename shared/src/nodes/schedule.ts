import { z } from 'zod';
import { wholeNumber } from './common.js';
import { defineNodeType } from './define.js';

export const OVERLAP_POLICIES = ['skip', 'queue', 'cancel-previous'] as const;
export const CATCH_UP_POLICIES = ['none', 'latest', 'all'] as const;

export const scheduleTrigger = defineNodeType({
  type: 'schedule',
  group: 'triggers',
  label: 'Schedule',
  description:
    'Starts a run of the published version on a cron schedule, in a time zone. Runs only while the flow is enabled.',
  params: z.strictObject({
    cron: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .default('0 2 * * *')
      .describe('Cron expression: 5 fields (minute hour day month weekday) or 6 (seconds first).'),
    timezone: z.string().min(1).default('UTC').describe('IANA time zone the cron is read in, e.g. Europe/Berlin.'),
    overlap: z
      .enum(OVERLAP_POLICIES)
      .default('skip')
      .describe('When a run of this flow is still going at the next fire: skip the fire, queue it, or cancel the run.'),
    catchUp: z
      .enum(CATCH_UP_POLICIES)
      .default('latest')
      .describe('Fires missed while Sluice was down: none, only the latest, or all of them (up to the limit).'),
    catchUpLimit: wholeNumber(1, 1000).default(10).describe('With catch-up "all": at most this many missed fires.'),
  }),
  input: false,
  outputs: ['out'],
  role: 'trigger',
});
