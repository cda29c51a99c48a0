import { describe, expect, it } from 'vitest';
import { cronProblem, timeZoneProblem } from '../../editor/src/lib/problems/schedule-check.js';
import { checkSchedule } from '../../server/src/schedules/cron.js';

/*
 * The editor checks schedules while the user types, the server when the flow is saved; both use
 * croner, but in two modules (the editor cannot import the server). This keeps their verdicts and
 * words the same, so a draft's problems read as the saved version's will.
 */
const CRONS = [
  '0 2 * * *',
  '*/15 * * * *',
  '0 40 5 * * *',
  '0 15,45 5 * * *',
  '0 25 * * *',
  '61 * * * *',
  '* * * *',
  '* * * * * * *',
  '0 0 31 2 *',
  '0 9 * * MON-FRI',
  'every day',
  '0 0 L * *',
  '0 0 * * 8',
  '*/0 * * * *',
  '  0   2 * * *  ',
];
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Mars/Olympus', 'utc+2', ''];

describe('the editor and the server judge a schedule alike', () => {
  it.each(CRONS)('cron %j', (cron) => {
    const server = checkSchedule({ cron, timezone: 'UTC' });
    expect(cronProblem(cron)).toBe(server?.path === 'cron' ? server.message : undefined);
  });

  it.each(ZONES)('time zone %j', (timezone) => {
    const server = checkSchedule({ cron: '0 2 * * *', timezone });
    expect(timeZoneProblem(timezone)).toBe(server?.path === 'timezone' ? server.message : undefined);
  });

  it('refuses what it should: the list above is not all accepted', () => {
    expect(CRONS.filter((c) => cronProblem(c) !== undefined).length).toBeGreaterThan(4);
  });
});
