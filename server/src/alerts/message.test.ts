import type { RunSummary } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { backoffMs } from './deliveries.js';
import { alertText, defaultRuleName, durationText, finishedRunSummary, longRunSummary, runPart } from './message.js';

const run = (over: Partial<RunSummary> = {}): RunSummary => ({
  id: '12',
  runNumber: 3,
  flowId: 'f',
  flowVersion: 1,
  flowName: 'Orders',
  status: 'succeeded',
  trigger: 'schedule',
  counts: { read: 1000, succeeded: 914, filtered: 0, failed: 86, cancelled: 0 },
  error: null,
  waiting: null,
  retryOf: null,
  scheduledFor: null,
  prunedAt: null,
  executor: null,
  claims: 1,
  createdAt: '2026-12-01T10:00:00.000Z',
  startedAt: '2026-12-01T10:00:00.000Z',
  finishedAt: '2026-12-01T10:04:03.000Z',
  ...over,
});

describe('when a finished run meets a rule', () => {
  it('failed records: at a count or a share, from the threshold up, only for a succeeded run', () => {
    const at = (minFailed?: number, minShare?: number, r = run()) =>
      finishedRunSummary(
        {
          kind: 'failed-records',
          ...(minFailed !== undefined ? { minFailed } : {}),
          ...(minShare !== undefined ? { minShare } : {}),
        },
        r,
      );
    expect(at(86)).toBe(
      "Orders: run #3 (id 12) succeeded with 86 of 1,000 records failed (8.6 %), at or over the rule's 86",
    );
    expect(at(87)).toBeUndefined();
    expect(at(undefined, 0.086)).toContain("at or over the rule's 8.6 %");
    expect(at(undefined, 0.087)).toBeUndefined();
    // either is enough
    expect(at(1000, 0.05)).toContain("the rule's 5 %");
    expect(at(1, undefined, run({ status: 'failed' }))).toBeUndefined();
    expect(
      at(1, 0.01, run({ counts: { read: 0, succeeded: 0, filtered: 0, failed: 0, cancelled: 0 } })),
    ).toBeUndefined();
  });

  it('run failed: only a failed run, with its error', () => {
    expect(finishedRunSummary({ kind: 'run-failed' }, run())).toBeUndefined();
    expect(finishedRunSummary({ kind: 'run-failed' }, run({ status: 'cancelled' }))).toBeUndefined();
    expect(finishedRunSummary({ kind: 'run-failed' }, run({ status: 'failed', error: 'source: HTTP 503' }))).toBe(
      'Orders: run #3 (id 12) failed: source: HTTP 503',
    );
    expect(finishedRunSummary({ kind: 'run-failed' }, run({ status: 'failed', runNumber: null }))).toBe(
      'Orders: run 12 failed',
    );
  });
});

describe('how alerts read', () => {
  it('says durations and names rules in words', () => {
    expect([0, 12_400, 60_000, 243_000, 3_600_000, 3_720_000].map(durationText)).toEqual([
      '0 s',
      '12 s',
      '1 min',
      '4 min 3 s',
      '1 h',
      '1 h 2 min',
    ]);
    expect(defaultRuleName({ kind: 'failed-records', minFailed: 1500, minShare: 0.025 })).toBe(
      'Failed records: 1,500 or more, or 2.5 % or more',
    );
    expect(defaultRuleName({ kind: 'run-longer', seconds: 5400 })).toBe('Run longer than 1 h 30 min');
    expect(longRunSummary(60, run({ status: 'running' }), Date.parse('2026-12-01T10:02:00Z'))).toBe(
      'Orders: run #3 (id 12) has been running for 2 min, longer than 1 min',
    );
  });

  it('carries the run and writes it out as text', () => {
    const part = runPart(run(), Date.now());
    expect(part.durationMs).toBe(243_000);
    const text = alertText({
      type: 'sluice.alert',
      rule: { id: 'al_x', name: 'Rejects', kind: 'failed-records' },
      flow: { id: 'f', name: 'Orders' },
      run: part,
      slot: null,
      summary: 'the summary',
      at: '2026-12-01T10:04:04.000Z',
    });
    expect(text.split('\n')).toEqual([
      'the summary',
      '',
      'Flow: Orders (f)',
      'Rule: Rejects',
      'Run: 12, succeeded (trigger schedule)',
      'Records: 1,000 read, 914 succeeded, 86 failed, 0 filtered',
      'Duration: 4 min 3 s',
      'Raised at: 2026-12-01T10:04:04.000Z',
    ]);
  });
});

describe('retry backoff', () => {
  it('doubles from the base after each failed attempt, up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => backoffMs(a, 2000, 60_000))).toEqual([
      2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000,
    ]);
  });
});
