import { describe, expect, it } from 'vitest';
import {
  compactCount,
  formatDelay,
  formatDuration,
  formatTimestamp,
  formatWhen,
  isFinalStatus,
  prettyJson,
  runDuration,
} from './format';

describe('format', () => {
  it('knows the final run statuses', () => {
    expect(isFinalStatus('succeeded')).toBe(true);
    expect(isFinalStatus('failed')).toBe(true);
    expect(isFinalStatus('cancelled')).toBe(true);
    expect(isFinalStatus('running')).toBe(false);
    expect(isFinalStatus('queued')).toBe(false);
    expect(isFinalStatus(null)).toBe(false);
  });

  it('formats durations', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(1234)).toBe('1.2 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(125_000)).toBe('2 min 05 s');
    expect(formatDuration(3_720_000)).toBe('1 h 02 min');
    expect(formatDuration(-1)).toBe('–');
  });

  it('formats delays', () => {
    expect(formatDelay(200)).toBe('200 ms');
    expect(formatDelay(1000)).toBe('1 s');
    expect(formatDelay(90_000)).toBe('1.5 min');
  });

  it('measures runs, finished or not', () => {
    expect(runDuration(null, null)).toBeNull();
    expect(runDuration('2024-01-01T00:00:00.000Z', '2024-01-01T00:00:02.500Z')).toBe(2500);
    expect(runDuration('2024-01-01T00:00:00.000Z', null, Date.parse('2024-01-01T00:00:01.000Z'))).toBe(1000);
  });

  it('formats timestamps and passes odd values through', () => {
    expect(formatTimestamp(null)).toBe('–');
    expect(formatTimestamp('not a date')).toBe('not a date');
    expect(formatTimestamp('2024-05-01T14:03:07Z')).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  });

  it('shortens list timestamps to the time on the same day', () => {
    const at = new Date(2024, 4, 1, 14, 3, 7);
    expect(formatWhen(at.toISOString(), new Date(2024, 4, 1, 20, 0, 0))).toBe('14:03:07');
    expect(formatWhen(at.toISOString(), new Date(2024, 4, 2, 9, 0, 0))).toBe('2024-05-01 14:03');
    expect(formatWhen(null)).toBe('–');
  });

  it('compacts counts', () => {
    expect(compactCount(950)).toBe('950');
    expect(compactCount(1200)).toBe('1.2k');
    expect(compactCount(34_400)).toBe('34k');
    expect(compactCount(1_500_000)).toBe('1.5M');
  });

  it('pretty-prints JSON', () => {
    expect(prettyJson({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(prettyJson(undefined)).toBe('undefined');
    const loop: Record<string, unknown> = {};
    loop['self'] = loop;
    expect(prettyJson(loop)).toBe('[object Object]');
  });
});
