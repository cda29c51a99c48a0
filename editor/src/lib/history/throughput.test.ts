import type { BatchSummary } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { bucketSecondsFor, computeThroughput, formatOffset, formatRate, niceTicks, timeTicks } from './throughput';

const T0 = Date.parse('2026-01-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function batch(batchNo: number, startMs: number, endMs: number | null, succeeded: number, extra = {}): BatchSummary {
  return {
    batchNo,
    size: succeeded,
    succeeded,
    filtered: 0,
    failed: 0,
    startedAt: at(startMs),
    finishedAt: endMs === null ? null : at(endMs),
    ...extra,
  };
}

/** One-second buckets, as the tests below reason in. */
const PER_SECOND = { minBucketSeconds: 1 };

const rates = (batches: BatchSummary[]) => computeThroughput(batches, PER_SECOND)?.points.map((p) => p.rate);

describe('computeThroughput', () => {
  it('gives nothing to draw without batches', () => {
    expect(computeThroughput([])).toBeNull();
  });

  it('spreads one batch of 2 s over two 1-second buckets', () => {
    const result = computeThroughput([batch(1, 0, 2000, 100)], PER_SECOND);
    expect(result).not.toBeNull();
    expect(result?.bucketSeconds).toBe(1);
    expect(result?.points).toEqual([
      { t: 0, tEnd: 1, records: 50, rate: 50 },
      { t: 1, tEnd: 2, records: 50, rate: 50 },
    ]);
    expect(result?.totalRecords).toBe(100);
    expect(result?.durationSeconds).toBe(2);
    expect(result?.averageRate).toBe(50);
    expect(result?.peakRate).toBe(50);
  });

  it('counts succeeded, filtered and failed records, not the cancelled rest of a batch', () => {
    const result = computeThroughput([batch(1, 0, 1000, 10, { size: 40, filtered: 5, failed: 5 })], PER_SECOND);
    expect(result?.totalRecords).toBe(20);
    expect(result?.points[0]?.rate).toBe(20);
  });

  it('rates a single short batch over the time it took, not over a whole second', () => {
    const result = computeThroughput([batch(1, 0, 250, 100)], PER_SECOND);
    expect(result?.points).toHaveLength(1);
    expect(result?.points[0]?.tEnd).toBe(0.25);
    expect(result?.points[0]?.rate).toBe(400);
    expect(result?.averageRate).toBe(400);
  });

  it('gives a batch that took no measurable time a finite rate', () => {
    const result = computeThroughput([batch(1, 0, 0, 5)]);
    expect(result?.points).toHaveLength(1);
    expect(result?.points[0]?.records).toBe(5);
    expect(Number.isFinite(result?.points[0]?.rate)).toBe(true);
  });

  it('splits a batch across bucket boundaries in proportion to the time in each', () => {
    // The second batch runs from 0.5 s to 2.5 s: of its 200 records, 50 fall in the first bucket, 100 in the
    // second and 50 in the third.
    const result = computeThroughput([batch(1, 0, 500, 25), batch(2, 500, 2500, 200)], PER_SECOND);
    expect(result?.points.map((p) => p.records)).toEqual([75, 100, 50]);
  });

  it('shows a delay between batches as buckets with no records', () => {
    const result = computeThroughput([batch(1, 0, 1000, 30), batch(2, 3000, 4000, 60)], PER_SECOND);
    expect(result?.points.map((p) => p.rate)).toEqual([30, 0, 0, 60]);
    expect(result?.durationSeconds).toBe(4);
    expect(result?.averageRate).toBe(90 / 4);
    expect(result?.peakRate).toBe(60);
  });

  it('measures time from the earliest batch, whatever the order they come in', () => {
    expect(rates([batch(2, 1000, 2000, 20), batch(1, 0, 1000, 10)])).toEqual([10, 20]);
  });

  it('adds up batches that overlap', () => {
    expect(rates([batch(1, 0, 1000, 10), batch(2, 0, 1000, 15)])).toEqual([25]);
  });

  it('spreads what an unfinished batch has done so far up to now', () => {
    const result = computeThroughput([batch(1, 0, 1000, 10), batch(2, 1000, null, 40)], {
      now: T0 + 3000,
      ...PER_SECOND,
    });
    expect(result?.points.map((p) => p.rate)).toEqual([10, 20, 20]);
    expect(result?.unfinishedBatches).toBe(1);
    expect(result?.batchesCounted).toBe(2);
  });

  it('leaves out an unfinished batch that has finished no record yet, but counts it as unfinished', () => {
    const result = computeThroughput([batch(1, 0, 1000, 10), batch(2, 1000, null, 0)], {
      now: T0 + 60_000,
      ...PER_SECOND,
    });
    expect(result?.points.map((p) => p.rate)).toEqual([10]);
    expect(result?.unfinishedBatches).toBe(1);
    expect(result?.batchesCounted).toBe(1);
    expect(computeThroughput([batch(1, 0, null, 0)], { now: T0 + 5000 })).toBeNull();
  });

  it('uses buckets of a tenth of a second for a short run, so that the pauses between batches show', () => {
    // Six batches of 50 records, each taking 70 ms, 200 ms apart (a Delay node between batches).
    const batches = [0, 1, 2, 3, 4, 5].map((i) => batch(i + 1, i * 270, i * 270 + 70, 50));
    const result = computeThroughput(batches);
    expect(result?.bucketSeconds).toBe(0.1);
    expect(result?.points).toHaveLength(15);
    expect(result?.points[0]?.rate).toBeCloseTo(500);
    expect(result?.points[1]?.rate).toBe(0);
    expect(result?.peakRate).toBeGreaterThan(400);
    expect(result?.totalRecords).toBe(300);
    // Per second, the same run looks flat.
    const perSecond = computeThroughput(batches, PER_SECOND);
    expect(perSecond?.points.map((p) => Math.round(p.rate))).toEqual([200, 238]);
  });

  it('widens the buckets of a long run to keep the series short', () => {
    // One hour: 3,600 one-second buckets would be too many; 30-second buckets make 120.
    const result = computeThroughput([batch(1, 0, 3_600_000, 36_000)]);
    expect(result?.bucketSeconds).toBe(30);
    expect(result?.points).toHaveLength(120);
    expect(result?.points.every((p) => Math.abs(p.rate - 10) < 1e-9)).toBe(true);
  });

  it('ignores batches whose times cannot be read', () => {
    const broken = { ...batch(1, 0, 1000, 10), startedAt: 'soon' };
    expect(computeThroughput([broken])).toBeNull();
    expect(rates([broken, batch(2, 0, 1000, 7)])).toEqual([7]);
  });

  it('treats a batch that ends before it starts as instant', () => {
    const result = computeThroughput([batch(1, 1000, 500, 3)]);
    expect(result?.totalRecords).toBe(3);
    expect(result?.points).toHaveLength(1);
  });
});

describe('bucketSecondsFor', () => {
  it('keeps 0.1 s (or the given least width) for short runs and picks nice widths for long ones', () => {
    expect(bucketSecondsFor(0, 120)).toBe(0.1);
    expect(bucketSecondsFor(1400, 120)).toBe(0.1);
    expect(bucketSecondsFor(30_000, 120)).toBe(0.5);
    expect(bucketSecondsFor(0, 120, 1)).toBe(1);
    expect(bucketSecondsFor(90_000, 120)).toBe(1);
    expect(bucketSecondsFor(200_000, 120)).toBe(2);
    expect(bucketSecondsFor(7_200_000, 120)).toBe(60);
    expect(bucketSecondsFor(100 * 86_400_000, 10)).toBe(864_000);
  });
});

describe('niceTicks', () => {
  it('covers the maximum with round steps', () => {
    expect(niceTicks(95)).toEqual([0, 25, 50, 75, 100]);
    expect(niceTicks(1000)).toEqual([0, 250, 500, 750, 1000]);
    expect(niceTicks(0.7)).toEqual([0, 0.2, 0.4, 0.6, 0.8]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });
});

describe('timeTicks', () => {
  it('uses seconds and minutes a reader expects', () => {
    expect(timeTicks(10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(timeTicks(1.4)).toEqual([0, 0.5, 1, 1.5]);
    expect(timeTicks(290)).toEqual([0, 60, 120, 180, 240, 300]);
    expect(timeTicks(0)).toEqual([0, 1]);
  });
});

describe('formatOffset and formatRate', () => {
  it('reads well on an axis', () => {
    expect(formatOffset(0)).toBe('0 s');
    expect(formatOffset(0.25)).toBe('0.3 s');
    expect(formatOffset(45)).toBe('45 s');
    expect(formatOffset(44.6)).toBe('45 s');
    expect(formatOffset(120)).toBe('2 min');
    expect(formatOffset(150)).toBe('2 min 30 s');
    expect(formatOffset(3600)).toBe('1 h');
    expect(formatOffset(4500)).toBe('1 h 15 min');
    expect(formatOffset(3 * 86_400)).toBe('3 d');
    expect(formatOffset(3 * 86_400 + 4 * 3600)).toBe('3 d 4 h');
    expect(formatRate(0)).toBe('0');
    expect(formatRate(0.001)).toBe('<0.01');
    expect(formatRate(0.075)).toBe('0.075');
    expect(formatRate(8.46)).toBe('8.5');
    expect(formatRate(950.2)).toBe('950');
    expect(formatRate(1234)).toBe('1.2k');
    expect(formatRate(34_000)).toBe('34k');
    expect(formatRate(1_500_000)).toBe('1.5M');
  });
});
