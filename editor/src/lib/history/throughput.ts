import type { BatchSummary } from '@sluice/shared';

/** One bucket of the throughput series: the records finished in [t, tEnd) seconds after the first batch started. */
export interface ThroughputPoint {
  /** Start of the bucket, in seconds since the first batch started. */
  t: number;
  /** End of the bucket (the last bucket may be shorter than the others, it ends with the data). */
  tEnd: number;
  /** Records processed in the bucket (a batch's records are spread evenly over its duration). */
  records: number;
  /** records / (tEnd - t). */
  rate: number;
}

export interface Throughput {
  points: ThroughputPoint[];
  /**
   * Width of a (full) bucket, in seconds: the smallest round width of at least `minBucketSeconds` that keeps
   * the series to `maxBuckets` (0.1 s for a run of a few seconds, 1 s up to two minutes, wider after).
   */
  bucketSeconds: number;
  /** From the start of the first batch to the end of the last one (or `now` for one still running). */
  durationSeconds: number;
  /** Records counted: succeeded + filtered + failed over the batches shown. */
  totalRecords: number;
  /** totalRecords / durationSeconds. */
  averageRate: number;
  /** The highest bucket rate. */
  peakRate: number;
  /** Batches that have not finished yet. */
  unfinishedBatches: number;
  /** Batches the series is made of (those with valid times, finished or with records so far). */
  batchesCounted: number;
}

export interface ThroughputOptions {
  /** The current time (ms since the epoch), the end of an unfinished batch. Defaults to Date.now(). */
  now?: number;
  /** At most this many buckets; the bucket width grows to a nice step to keep under it. Default 120. */
  maxBuckets?: number;
  /** The narrowest bucket, in seconds (one of 0.1, 0.2, 0.5, 1, 2, 5…). Default 0.1. */
  minBucketSeconds?: number;
}

/** Bucket widths in seconds, from which the smallest one that keeps the series short enough is chosen. */
const BUCKET_STEPS = [
  0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
];

/**
 * The smallest nice bucket width (seconds, at least `minSeconds`) that splits `spanMs` into at most
 * `maxBuckets` buckets.
 */
export function bucketSecondsFor(spanMs: number, maxBuckets: number, minSeconds = 0.1): number {
  const needed = Math.max(spanMs / 1000 / Math.max(1, maxBuckets), minSeconds);
  for (const step of BUCKET_STEPS) if (step >= needed - 1e-9) return step;
  return Math.ceil(needed / 86_400) * 86_400;
}

/** Records a batch has finished so far. */
function processed(batch: BatchSummary): number {
  return Math.max(0, batch.succeeded) + Math.max(0, batch.filtered) + Math.max(0, batch.failed);
}

/**
 * Records per second over a run, per time bucket, from its batches. Buckets are as narrow as keeps the series
 * to `maxBuckets` (120), but not under `minBucketSeconds` (0.1 s): 0.1 s buckets for a run of a few seconds,
 * so that batches and the pauses between them show, 1 s up to two minutes, wider for longer runs.
 *
 * Each batch's processed records (succeeded + filtered + failed) are spread evenly over the time it ran;
 * a batch that took no measurable time puts them all in the bucket it started in. Time between batches
 * (delays, rate limits, waits) shows as buckets with a rate of 0. A batch that has not finished counts the
 * records it has finished so far, spread up to `now`; one that has finished none yet is left out (it is
 * counted in `unfinishedBatches`). Batches with unreadable times are ignored. Null when nothing can be drawn.
 */
export function computeThroughput(
  batches: readonly BatchSummary[],
  options: ThroughputOptions = {},
): Throughput | null {
  const now = options.now ?? Date.now();
  const maxBuckets = Math.max(1, Math.floor(options.maxBuckets ?? 120));
  let unfinishedBatches = 0;
  const spans: { start: number; end: number; records: number }[] = [];
  for (const batch of batches) {
    const finished = batch.finishedAt !== null;
    if (!finished) unfinishedBatches++;
    const start = Date.parse(batch.startedAt);
    if (Number.isNaN(start)) continue;
    const records = processed(batch);
    let end: number;
    if (batch.finishedAt !== null) {
      end = Date.parse(batch.finishedAt);
      if (Number.isNaN(end)) continue;
    } else {
      if (records === 0) continue;
      end = now;
    }
    spans.push({ start, end: Math.max(start, end), records });
  }
  if (spans.length === 0) return null;

  const origin = Math.min(...spans.map((s) => s.start));
  const last = Math.max(...spans.map((s) => s.end));
  const spanMs = last - origin;
  const bucketSeconds = bucketSecondsFor(spanMs, maxBuckets, options.minBucketSeconds ?? 0.1);
  const bucketMs = Math.round(bucketSeconds * 1000);
  // At least one bucket; a bucket boundary falling exactly on the end opens no empty bucket after it.
  const count = Math.max(1, Math.ceil(spanMs / bucketMs));
  const records = new Array<number>(count).fill(0);

  for (const span of spans) {
    const from = span.start - origin;
    const to = span.end - origin;
    if (to <= from) {
      const index = Math.min(count - 1, Math.floor(from / bucketMs));
      records[index] = (records[index] ?? 0) + span.records;
      continue;
    }
    const perMs = span.records / (to - from);
    const first = Math.floor(from / bucketMs);
    const lastIndex = Math.min(count - 1, Math.ceil(to / bucketMs) - 1);
    for (let i = first; i <= lastIndex; i++) {
      const overlap = Math.min(to, (i + 1) * bucketMs) - Math.max(from, i * bucketMs);
      if (overlap > 0) records[i] = (records[i] ?? 0) + overlap * perMs;
    }
  }

  // The last bucket ends with the data; an instant run (span 0) is given 1 ms so that its rate is finite.
  const endMs = Math.max(spanMs, 1);
  const points: ThroughputPoint[] = records.map((n, i) => {
    const t = (i * bucketMs) / 1000;
    const tEnd = Math.min((i + 1) * bucketMs, Math.max(endMs, i * bucketMs + 1)) / 1000;
    return { t, tEnd, records: n, rate: n / (tEnd - t) };
  });
  const totalRecords = spans.reduce((sum, s) => sum + s.records, 0);
  return {
    points,
    bucketSeconds,
    durationSeconds: spanMs / 1000,
    totalRecords,
    averageRate: totalRecords / (endMs / 1000),
    peakRate: points.reduce((max, p) => Math.max(max, p.rate), 0),
    unfinishedBatches,
    batchesCounted: spans.length,
  };
}

/**
 * Round tick values from 0 to at least `max` (about `target` of them): steps of 1, 2, 2.5 or 5 × 10^n.
 * `[0, 1]` when max is 0 or not a number.
 */
export function niceTicks(max: number, target = 4): number[] {
  if (!Number.isFinite(max) || max <= 0) return [0, 1];
  const rough = max / Math.max(1, target);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * power >= rough) ?? 10) * power;
  const ticks: number[] = [];
  for (let i = 0; ; i++) {
    const value = Number((i * step).toPrecision(12));
    ticks.push(value);
    if (value >= max) break;
  }
  return ticks;
}

/** Round time ticks (seconds) from 0 to at least `max`: 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15, 30 min, 1 h… */
export function timeTicks(maxSeconds: number, target = 5): number[] {
  if (!Number.isFinite(maxSeconds) || maxSeconds <= 0) return [0, 1];
  const rough = maxSeconds / Math.max(1, target);
  const step = BUCKET_STEPS.find((s) => s >= rough) ?? Math.ceil(rough / 86_400) * 86_400;
  const ticks: number[] = [];
  for (let i = 0; ; i++) {
    const value = Number((i * step).toFixed(3));
    ticks.push(value);
    if (value >= maxSeconds) break;
  }
  return ticks;
}

/** A time offset for an axis: "0 s", "0.4 s", "45 s", "2 min", "2 min 30 s", "1 h", "1 h 15 min", "3 d", "3 d 4 h". */
export function formatOffset(seconds: number): string {
  if (seconds > 0 && seconds < 10 && !Number.isInteger(seconds)) return `${Number(seconds.toFixed(1))} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) {
    const m = Math.floor(s / 60);
    return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  }
  if (s < 86_400) {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return m === 0 ? `${h} h` : `${h} h ${m} min`;
  }
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  return h === 0 ? `${d} d` : `${d} d ${h} h`;
}

/** A rate for an axis or a label: "0", "<0.01", "0.025", "8.5", "950", "1.2k", "34k", "1.5M". */
export function formatRate(rate: number): string {
  if (!Number.isFinite(rate) || rate <= 0) return '0';
  if (rate < 0.01) return '<0.01';
  if (rate < 10) return String(Number(rate.toPrecision(2)));
  if (rate < 1000) return String(Math.round(rate));
  if (rate < 10_000) return `${Number((rate / 1000).toFixed(1))}k`;
  if (rate < 1_000_000) return `${Math.round(rate / 1000)}k`;
  return `${Number((rate / 1_000_000).toFixed(1))}M`;
}
