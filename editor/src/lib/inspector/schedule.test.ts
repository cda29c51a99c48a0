import { describe, expect, it } from 'vitest';
import {
  CATCH_UP_EXPLANATIONS,
  CATCH_UP_POLICIES,
  formatFireTime,
  isTimeZone,
  OVERLAP_EXPLANATIONS,
  OVERLAP_POLICIES,
  previewQuery,
  timeUntil,
  timeZones,
} from './schedule';

describe('schedule helpers', () => {
  it('explains every policy of the catalogue', () => {
    for (const p of OVERLAP_POLICIES) expect(OVERLAP_EXPLANATIONS[p]).toBeTruthy();
    for (const p of CATCH_UP_POLICIES) expect(CATCH_UP_EXPLANATIONS[p]).toBeTruthy();
  });

  it('builds the preview query', () => {
    expect(previewQuery('*/5 * * * *', 'Europe/Berlin')).toEqual({ cron: '*/5 * * * *', timezone: 'Europe/Berlin' });
    expect(previewQuery(' 0 2 * * * ', ' ')).toEqual({ cron: '0 2 * * *' });
  });

  it('lists time zones with UTC first', () => {
    const zones = timeZones();
    expect(zones[0]).toBe('UTC');
    expect(zones).toContain('Europe/Berlin');
    expect(zones.filter((z) => z === 'UTC')).toHaveLength(1);
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });

  it('shows fire times in the schedule’s zone', () => {
    expect(formatFireTime('2026-12-01T01:00:00.000Z', 'Europe/Berlin')).toBe('Tue, 1 Dec 2026, 02:00');
    expect(formatFireTime('2026-12-01T01:00:00.000Z', 'UTC')).toBe('Tue, 1 Dec 2026, 01:00');
    expect(formatFireTime('nonsense', 'UTC')).toBe('nonsense');
  });

  it('says how far ahead a fire is', () => {
    const now = Date.parse('2026-12-01T00:00:00.000Z');
    expect(timeUntil('2026-12-01T00:00:30.000Z', now)).toBe('in less than a minute');
    expect(timeUntil('2026-12-01T00:05:00.000Z', now)).toBe('in 5 min');
    expect(timeUntil('2026-12-01T03:00:00.000Z', now)).toBe('in 3 h');
    expect(timeUntil('2026-12-04T00:00:00.000Z', now)).toBe('in 3 d');
  });
});
