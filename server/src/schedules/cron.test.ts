import { describe, expect, it } from 'vitest';
import {
  type CatchUp,
  checkSchedule,
  type DueSlotsInput,
  describeSchedule,
  dueSlots,
  firesBetween,
  nextFires,
  type ScheduleSpec,
} from './cron.js';

const at = (iso: string) => Date.parse(iso);
const isos = (times: number[]) => times.map((ms) => new Date(ms).toISOString());
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const NOTHING_DUE = { fire: [], skipTo: undefined };

const berlinAt0230: ScheduleSpec = { cron: '30 2 * * *', timezone: 'Europe/Berlin' };
const berlinEveryHalfHour: ScheduleSpec = { cron: '0 */30 * * * *', timezone: 'Europe/Berlin' };
const newYorkAt0130: ScheduleSpec = { cron: '30 1 * * *', timezone: 'America/New_York' };
const hourlyUtc: ScheduleSpec = { cron: '0 * * * *', timezone: 'UTC' };
const everySecondUtc: ScheduleSpec = { cron: '* * * * * *', timezone: 'UTC' };

describe('checkSchedule', () => {
  it('accepts 5- and 6-field expressions in an IANA time zone', () => {
    expect(checkSchedule({ cron: '0 9 * * 1-5', timezone: 'Europe/Berlin' })).toBeUndefined();
    expect(checkSchedule({ cron: '*/10 * * * * *', timezone: 'UTC' })).toBeUndefined();
    expect(checkSchedule({ cron: '  0  9 * * *  ', timezone: 'America/New_York' })).toBeUndefined();
  });

  it('rejects other field counts before asking croner', () => {
    expect(checkSchedule({ cron: '* * *', timezone: 'UTC' })).toEqual({
      path: 'cron',
      message: 'cron: expected 5 or 6 fields (got 3)',
    });
    expect(checkSchedule({ cron: '0 0 12 * * * 2026', timezone: 'UTC' })).toEqual({
      path: 'cron',
      message: 'cron: expected 5 or 6 fields (got 7)',
    });
    expect(checkSchedule({ cron: ' ', timezone: 'UTC' })?.message).toBe('cron: expected 5 or 6 fields (got 0)');
  });

  it("passes on croner's message for a bad field value", () => {
    expect(checkSchedule({ cron: '61 * * * *', timezone: 'UTC' })).toEqual({
      path: 'cron',
      message: 'cron: Invalid value for minute: 61',
    });
  });

  it('rejects a time zone that is not IANA, after checking the expression', () => {
    expect(checkSchedule({ cron: '0 * * * *', timezone: 'Mars/Base' })).toEqual({
      path: 'timezone',
      message: 'timezone: "Mars/Base" is not an IANA time zone',
    });
    expect(checkSchedule({ cron: '* *', timezone: 'Mars/Base' })?.path).toBe('cron');
  });
});

describe('describeSchedule', () => {
  it('describes the expression and names the time zone', () => {
    expect(describeSchedule({ cron: '*/15 * * * *', timezone: 'UTC' })).toBe('Every 15 minutes (UTC)');
    expect(describeSchedule(berlinAt0230)).toBe('At 02:30 (Europe/Berlin)');
  });

  it('reads a 6-field expression with seconds first', () => {
    expect(describeSchedule({ cron: '*/10 * * * * *', timezone: 'UTC' })).toBe('Every 10 seconds (UTC)');
    expect(describeSchedule({ cron: '30 0 9 * * 1-5', timezone: 'UTC' })).toBe(
      'At 09:00:30, Monday through Friday (UTC)',
    );
  });

  it('words times of day made of several fields as times, not as separate clauses', () => {
    const cases: [string, string][] = [
      // cronstrue alone: "At 15 and 45 minutes past the hour, at 05:00"
      ['0 15,45 5 * * *', 'At 05:15 and 05:45'],
      ['15,45 5 * * *', 'At 05:15 and 05:45'],
      // cronstrue alone: "At 30 seconds past the minute, at 40 minutes past the hour, at 05:00 and 17:00"
      ['30 40 5,17 * * *', 'At 05:40:30 and 17:40:30'],
      ['0,30 40 5 * * *', 'At 05:40:00 and 05:40:30'],
      ['0 15,45 5,17 * * 1-5', 'At 05:15, 05:45, 17:15 and 17:45, Monday through Friday'],
      ['0 0,30 9 1 * *', 'At 09:00 and 09:30, on day 1 of the month'],
      // cronstrue alone: "Every 15 minutes, at 05:00 and 17:00"
      ['0 */15 5,17 * * *', 'Every 15 minutes, between 05:00 and 05:59 and between 17:00 and 17:59'],
      ['0 0-10 5,17 * * *', 'Minutes 0 through 10 past the hour, between 05:00 and 05:59 and between 17:00 and 17:59'],
      // what cronstrue already words as one stays as it is
      ['0 40 5 * * *', 'At 05:40'],
      ['30 40 5 * * *', 'At 05:40:30'],
      ['40 5,17 * * *', 'At 05:40 and 17:40'],
      ['*/30 40 5 * * *', 'Every 30 seconds, at 40 minutes past the hour, between 05:00 and 05:59'],
      ['0 0 1,15 * 1', 'At 00:00, on day 1 and 15 of the month, and on Monday'],
      // too many times to list: cronstrue's wording of the minutes, with the hours said as hours
      [
        '0 0,15,30,45 5,17,20 * * *',
        'At 0, 15, 30, and 45 minutes past the hour, between 05:00 and 05:59, between 17:00 and 17:59 and between 20:00 and 20:59',
      ],
    ];
    for (const [cron, description] of cases) {
      expect(describeSchedule({ cron, timezone: 'UTC' }), cron).toBe(`${description} (UTC)`);
    }
  });

  it('falls back to the expression when cronstrue cannot read what croner accepts', () => {
    expect(describeSchedule({ cron: '0 12 1 * +MON', timezone: 'UTC' })).toBe('0 12 1 * +MON (UTC)');
  });
});

describe('nextFires', () => {
  it('gives the next fire times strictly after the given instant, increasing', () => {
    const every15 = { cron: '*/15 * * * *', timezone: 'UTC' };
    const fires = nextFires(every15, at('2026-01-01T10:07:30Z'), 5);
    expect(isos(fires)).toEqual([
      '2026-01-01T10:15:00.000Z',
      '2026-01-01T10:30:00.000Z',
      '2026-01-01T10:45:00.000Z',
      '2026-01-01T11:00:00.000Z',
      '2026-01-01T11:15:00.000Z',
    ]);
    expect(nextFires(every15, at('2026-01-01T10:15:00Z'), 1)).toEqual([at('2026-01-01T10:30:00Z')]);
  });

  it('reads the expression in its time zone', () => {
    const nineInBerlin = { cron: '0 9 * * *', timezone: 'Europe/Berlin' };
    expect(nextFires(nineInBerlin, at('2026-01-10T12:00:00Z'), 1)).toEqual([at('2026-01-11T08:00:00Z')]);
    expect(nextFires(nineInBerlin, at('2026-07-10T12:00:00Z'), 1)).toEqual([at('2026-07-11T07:00:00Z')]);
  });

  it('fires when either day-of-month or day-of-week matches, like standard cron', () => {
    const firstOrMonday = { cron: '0 9 1 * 1', timezone: 'UTC' };
    expect(isos(nextFires(firstOrMonday, at('2026-06-02T00:00:00Z'), 5))).toEqual([
      '2026-06-08T09:00:00.000Z',
      '2026-06-15T09:00:00.000Z',
      '2026-06-22T09:00:00.000Z',
      '2026-06-29T09:00:00.000Z',
      '2026-07-01T09:00:00.000Z',
    ]);
  });

  it('throws on an invalid schedule', () => {
    expect(() => nextFires({ cron: '* *', timezone: 'UTC' }, 0, 1)).toThrow(
      'Invalid schedule: cron: expected 5 or 6 fields (got 2)',
    );
  });
});

describe('firesBetween', () => {
  it('excludes the start and includes the end', () => {
    const fires = firesBetween(hourlyUtc, at('2026-01-01T10:00:00Z'), at('2026-01-01T13:00:00Z'), 10);
    expect(isos(fires)).toEqual(['2026-01-01T11:00:00.000Z', '2026-01-01T12:00:00.000Z', '2026-01-01T13:00:00.000Z']);
    expect(firesBetween(hourlyUtc, at('2026-01-01T13:00:00Z'), at('2026-01-01T10:00:00Z'), 10)).toEqual([]);
  });

  it('keeps the last `limit` fires when there are more', () => {
    const fires = firesBetween(hourlyUtc, at('2026-01-01T10:00:00Z'), at('2026-01-01T13:30:00Z'), 2);
    expect(isos(fires)).toEqual(['2026-01-01T12:00:00.000Z', '2026-01-01T13:00:00.000Z']);
    expect(firesBetween(hourlyUtc, at('2026-01-01T10:00:00Z'), at('2026-01-01T13:30:00Z'), 0)).toEqual([]);
  });

  it('stays cheap over a week of every-second fires', () => {
    const from = at('2026-01-01T00:00:00Z');
    const fires = firesBetween(everySecondUtc, from, from + 7 * DAY_MS + 500, 3);
    expect(isos(fires)).toEqual(['2026-01-07T23:59:58.000Z', '2026-01-07T23:59:59.000Z', '2026-01-08T00:00:00.000Z']);
  });

  it('agrees with nextFires through a repeated hour', () => {
    const every20 = { cron: '*/20 * * * *', timezone: 'Europe/Berlin' };
    const dayStart = at('2026-10-24T22:00:00Z');
    const dayEnd = at('2026-10-25T23:00:00Z');
    const backwards = firesBetween(every20, dayStart, dayEnd, 1000);
    expect(backwards).toHaveLength(75);
    expect(backwards).toEqual(nextFires(every20, dayStart, 75));
  });
});

describe('daylight saving time', () => {
  it('Berlin spring forward: 02:30 fires once, at 03:00 CEST', () => {
    expect(isos(nextFires(berlinAt0230, at('2026-03-27T12:00:00Z'), 3))).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
    const day = firesBetween(berlinAt0230, at('2026-03-28T23:00:00Z'), at('2026-03-29T22:00:00Z'), 10);
    expect(isos(day)).toEqual(['2026-03-29T01:00:00.000Z']);
  });

  it('Berlin fall back: 02:30 fires once, at its first occurrence', () => {
    const day = firesBetween(berlinAt0230, at('2026-10-24T22:00:00Z'), at('2026-10-25T23:00:00Z'), 10);
    expect(isos(day)).toEqual(['2026-10-25T00:30:00.000Z']);
  });

  it('Berlin fall back: every 30 minutes runs through the repeated hour without gaps or duplicates', () => {
    const night = firesBetween(berlinEveryHalfHour, at('2026-10-25T00:00:00Z'), at('2026-10-25T03:00:00Z'), 10);
    expect(isos(night)).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T01:30:00.000Z',
      '2026-10-25T02:00:00.000Z',
      '2026-10-25T02:30:00.000Z',
      '2026-10-25T03:00:00.000Z',
    ]);
    const day = firesBetween(berlinEveryHalfHour, at('2026-10-24T22:00:00Z'), at('2026-10-25T23:00:00Z'), 100);
    expect(day).toHaveLength(50);
    expect(day.slice(1).map((t, i) => t - day[i]!)).toEqual(Array(49).fill(HOUR_MS / 2));
  });

  it('New York spring forward: 01:30 fires once', () => {
    const day = firesBetween(newYorkAt0130, at('2026-03-08T05:00:00Z'), at('2026-03-09T04:00:00Z'), 10);
    expect(isos(day)).toEqual(['2026-03-08T06:30:00.000Z']);
  });

  it('New York fall back: 01:30 fires once, at its first occurrence', () => {
    const day = firesBetween(newYorkAt0130, at('2026-11-01T04:00:00Z'), at('2026-11-02T05:00:00Z'), 10);
    expect(isos(day)).toEqual(['2026-11-01T05:30:00.000Z']);
  });

  it('New York: an hourly job fires 23 times on the short day and 25 on the long one', () => {
    const hourlyAt30 = { cron: '30 * * * *', timezone: 'America/New_York' };
    expect(firesBetween(hourlyAt30, at('2026-03-08T05:00:00Z'), at('2026-03-09T04:00:00Z'), 100)).toHaveLength(23);
    expect(firesBetween(hourlyAt30, at('2026-11-01T04:00:00Z'), at('2026-11-02T05:00:00Z'), 100)).toHaveLength(25);
  });
});

describe('dueSlots', () => {
  const afterDowntime = (catchUp: CatchUp, overrides: Partial<DueSlotsInput> = {}) =>
    dueSlots({
      spec: hourlyUtc,
      lastSlot: at('2026-01-01T09:00:00Z'),
      sinceMs: at('2025-12-01T00:00:00Z'),
      nowMs: at('2026-01-01T12:20:00Z'),
      catchUp,
      limit: 10,
      ...overrides,
    });

  it("'none' fires nothing after a downtime but skips to the latest slot", () => {
    expect(afterDowntime('none')).toEqual({ fire: [], skipTo: at('2026-01-01T12:00:00Z') });
  });

  it("'none' fires the latest slot alone when it is within the grace period", () => {
    const nowMs = at('2026-01-01T12:00:30Z');
    expect(afterDowntime('none', { nowMs })).toEqual({
      fire: [at('2026-01-01T12:00:00Z')],
      skipTo: at('2026-01-01T12:00:00Z'),
    });
    expect(afterDowntime('none', { nowMs, graceMs: 10_000 }).fire).toEqual([]);
  });

  it("'latest' fires only the latest missed slot", () => {
    expect(afterDowntime('latest')).toEqual({
      fire: [at('2026-01-01T12:00:00Z')],
      skipTo: at('2026-01-01T12:00:00Z'),
    });
  });

  it("'all' fires every missed slot oldest first, at most the `limit` most recent", () => {
    expect(isos(afterDowntime('all').fire)).toEqual([
      '2026-01-01T10:00:00.000Z',
      '2026-01-01T11:00:00.000Z',
      '2026-01-01T12:00:00.000Z',
    ]);
    expect(afterDowntime('all', { limit: 2 })).toEqual({
      fire: [at('2026-01-01T11:00:00Z'), at('2026-01-01T12:00:00Z')],
      skipTo: at('2026-01-01T12:00:00Z'),
    });
    expect(afterDowntime('all', { limit: 0 })).toEqual({ fire: [], skipTo: at('2026-01-01T12:00:00Z') });
  });

  it('never fires a slot again once it is stored as the last slot', () => {
    for (const catchUp of ['none', 'latest', 'all'] as const) {
      const first = afterDowntime(catchUp);
      const second = afterDowntime(catchUp, { lastSlot: first.skipTo, nowMs: at('2026-01-01T12:59:59Z') });
      expect(second).toEqual(NOTHING_DUE);
    }
  });

  it('does not fire a never-fired schedule for slots before it existed', () => {
    const neverFired = (nowMs: number, lastSlot?: number) =>
      dueSlots({ spec: hourlyUtc, lastSlot, sinceMs: at('2026-01-01T10:30:00Z'), nowMs, catchUp: 'all', limit: 10 });
    expect(neverFired(at('2026-01-01T10:59:59Z'))).toEqual(NOTHING_DUE);
    expect(neverFired(at('2026-01-01T11:10:00Z'))).toEqual({
      fire: [at('2026-01-01T11:00:00Z')],
      skipTo: at('2026-01-01T11:00:00Z'),
    });
    expect(neverFired(at('2026-01-01T12:20:00Z'), at('2026-01-01T06:00:00Z')).fire).toEqual([
      at('2026-01-01T11:00:00Z'),
      at('2026-01-01T12:00:00Z'),
    ]);
  });

  it('fires a slot that falls exactly on the time the schedule was enabled', () => {
    const slot = at('2026-01-01T11:00:00Z');
    const input = { spec: hourlyUtc, lastSlot: undefined, catchUp: 'all', limit: 10 } as const;
    expect(dueSlots({ ...input, sinceMs: slot, nowMs: slot + 10 })).toEqual({ fire: [slot], skipTo: slot });
  });

  it("fires a slot once with 'none' at exactly its time", () => {
    const slot = at('2026-01-01T11:00:00Z');
    const input = { spec: hourlyUtc, sinceMs: at('2026-01-01T10:30:00Z'), catchUp: 'none', limit: 10 } as const;
    const first = dueSlots({ ...input, lastSlot: undefined, nowMs: slot });
    expect(first).toEqual({ fire: [slot], skipTo: slot });
    expect(dueSlots({ ...input, lastSlot: first.skipTo, nowMs: slot })).toEqual(NOTHING_DUE);
    expect(dueSlots({ ...input, lastSlot: first.skipTo, nowMs: slot + 30_000 })).toEqual(NOTHING_DUE);
  });

  it('catches up cheaply after a week of every-second slots', () => {
    const lastSlot = at('2026-01-01T00:00:00Z');
    const input = { spec: everySecondUtc, lastSlot, sinceMs: lastSlot, nowMs: lastSlot + 7 * DAY_MS, limit: 3 };
    expect(isos(dueSlots({ ...input, catchUp: 'all' }).fire)).toEqual([
      '2026-01-07T23:59:58.000Z',
      '2026-01-07T23:59:59.000Z',
      '2026-01-08T00:00:00.000Z',
    ]);
    expect(dueSlots({ ...input, catchUp: 'latest' })).toEqual({
      fire: [at('2026-01-08T00:00:00Z')],
      skipTo: at('2026-01-08T00:00:00Z'),
    });
  });
});
