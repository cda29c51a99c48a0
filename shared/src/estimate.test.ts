import { describe, expect, it } from 'vitest';
import { combineMeasurements, estimateRun, fmtMs, measurePerRecord, runEta } from './estimate.js';
import { type Flow, flowSchema } from './flow.js';

/** manual → source → [batch] → [delay] → map → collect */
function chain(
  source: { type: string; params?: Record<string, unknown> },
  ...middle: { type: string; params?: Record<string, unknown> }[]
): Flow {
  const nodes = [
    { id: 'start', type: 'manual' },
    { id: 'src', ...source },
    ...middle.map((m, i) => ({ id: `${m.type}-${i}`, ...m })),
    { id: 'end', type: 'collect' },
  ];
  const edges = nodes.slice(1).map((n, i) => ({ source: nodes[i]?.id as string, target: n.id }));
  return flowSchema.parse({ format: 1, name: 'estimate', nodes, edges });
}

const generate = (count: number, pageSize = 1000) => ({ type: 'generate', params: { count, pageSize } });

describe('estimateRun', () => {
  it('fixed delays: (batches - 1) × delay, exact, whatever the processing time', () => {
    const flow = chain(generate(1000), { type: 'batch', params: { size: 50 } }, { type: 'delay', params: { ms: 200 } });
    const e = estimateRun(flow);
    expect(e.records).toBe(1000);
    expect(e.recordsFrom).toBe('the count set on Generate records');
    expect(e.batches).toBe(20);
    expect(e.lowerBoundMs).toBe(19 * 200);
    expect(e.estimateMs).toBeNull();
    expect(e.breakdown.find((p) => p.kind === 'delay')).toMatchObject({ nodeId: 'delay-1', ms: 3800, known: true });
    expect(e.breakdown.find((p) => p.kind === 'delay')?.text).toBe(
      '19 waits of 200 ms between 20 batches of 50: 3.8 s, exact',
    );
    expect(e.breakdown.find((p) => p.kind === 'processing')).toMatchObject({
      known: false,
      text: 'time per record unknown: run once to measure it',
    });
  });

  it('a short last batch still counts; one batch waits nothing', () => {
    const batchOf = (count: number) =>
      estimateRun(
        chain(generate(count), { type: 'batch', params: { size: 50 } }, { type: 'delay', params: { ms: 1000 } }),
      );
    expect(batchOf(1001)).toMatchObject({ batches: 21, lowerBoundMs: 20_000 });
    expect(batchOf(50)).toMatchObject({ batches: 1, lowerBoundMs: 0 });
    expect(batchOf(0)).toMatchObject({ batches: 0, lowerBoundMs: 0 });
  });

  it('a delay with no batch node before it holds source pages apart', () => {
    const e = estimateRun(chain(generate(1000, 300), { type: 'delay', params: { ms: 100 } }));
    expect(e.lowerBoundMs).toBe(300); // pages of 300, 300, 300, 100
    expect(e.batches).toBeNull();
  });

  it('adds the measured time per record to the waits', () => {
    const flow = chain(
      generate(1000),
      { type: 'batch', params: { size: 100 } },
      { type: 'delay', params: { ms: 500 } },
    );
    const e = estimateRun(flow, { perRecord: { ms: 2, runs: ['7'] } });
    expect(e.estimateMs).toBe(1000 * 2 + 9 * 500);
    expect(e.perRecordMs).toBe(2);
    expect(e.measuredRuns).toEqual(['7']);
    expect(e.breakdown.find((p) => p.kind === 'processing')?.text).toBe(
      '1,000 records × 2.0 ms measured in run 7: 2 s',
    );
  });

  it('rate windows: N records per interval bound the run from below, the work of the last window is added', () => {
    const flow = chain(generate(250), { type: 'delay', params: { mode: 'rate', records: 100, intervalMs: 60_000 } });
    const e = estimateRun(flow, { perRecord: { ms: 1, runs: ['1'] } });
    // 100 at 0, 100 at 1 min, 50 at 2 min
    expect(e.lowerBoundMs).toBe(120_000);
    expect(e.estimateMs).toBe(120_000 + 50);
    // a rate that does not bind: the work is longer than the windows
    const slow = estimateRun(flow, { perRecord: { ms: 1000, runs: ['1'] } });
    expect(slow.estimateMs).toBe(250_000);
    expect(e.breakdown.find((p) => p.kind === 'rate')?.text).toBe(
      '250 records at most 100 per 1 min: at least 2 min from the first release to the last',
    );
  });

  it('an unknown count says so plainly, and the last succeeded run fills it in', () => {
    const flow = chain(
      { type: 'http-source', params: { url: 'https://example.test/items' } },
      { type: 'batch', params: { size: 10 } },
    );
    const unknown = estimateRun(flow, { perRecord: { ms: 1, runs: ['3'] } });
    expect(unknown).toMatchObject({ records: null, batches: null, lowerBoundMs: null, estimateMs: null });
    expect(unknown.breakdown[0]).toMatchObject({
      kind: 'records',
      nodeId: 'src',
      known: false,
      text: 'record count unknown: HTTP source does not say how many records it will read; run once or set it',
    });
    const known = estimateRun(flow, { lastRun: { runId: '3', records: 95 }, perRecord: { ms: 1, runs: ['3'] } });
    expect(known).toMatchObject({ records: 95, batches: 10, estimateMs: 95 });
    expect(known.recordsFrom).toBe('read by run 3, the last that succeeded');
    // a count found by the server (a file's lines, an API's total) comes before the last run
    const found = estimateRun(flow, {
      sourceCounts: { src: { count: 40, from: 'the total the API reports' } },
      lastRun: { runId: '3', records: 95 },
    });
    expect(found.records).toBe(40);
    // and a count the caller gives comes first
    expect(estimateRun(flow, { records: 7, lastRun: { runId: '3', records: 95 } }).records).toBe(7);
  });

  it('an incremental source: the last run’s count is at most what the next reads', () => {
    const flow = chain({
      type: 'http-source',
      params: { url: 'https://example.test/items', incremental: { field: 'updatedAt', param: 'since' } },
    });
    expect(estimateRun(flow, { lastRun: { runId: '4', records: 10 } }).recordsFrom).toBe(
      'read by run 4, the last that succeeded (an incremental source reads only what changed since: at most)',
    );
  });

  it('inline records count themselves; a webhook cannot tell', () => {
    const inline = chain({ type: 'inline-records', params: { records: [{ a: 1 }, { a: 2 }, { a: 3 }] } });
    expect(estimateRun(inline).records).toBe(3);
    const hook = flowSchema.parse({
      format: 1,
      name: 'hook',
      nodes: [
        { id: 'hook', type: 'webhook' },
        { id: 'end', type: 'collect' },
      ],
      edges: [{ source: 'hook', target: 'end' }],
    });
    expect(estimateRun(hook).breakdown[0]?.text).toBe(
      'record count unknown: the records come with each webhook call; run once or set it',
    );
  });
});

describe('measurePerRecord', () => {
  it('takes the exact delay waits out of a run’s duration', () => {
    const flow = chain(generate(1000), { type: 'batch', params: { size: 50 } }, { type: 'delay', params: { ms: 200 } });
    expect(measurePerRecord(flow, 1000, 3800 + 2000)).toEqual({ ms: 2, hidden: false });
    // and is the inverse of the estimate
    const e = estimateRun(flow, { perRecord: { ms: 2, runs: ['1'] } });
    expect(e.estimateMs).toBe(5800);
  });

  it('under a binding rate limit, only the last window’s work shows', () => {
    const flow = chain(generate(250), { type: 'delay', params: { mode: 'rate', records: 100, intervalMs: 60_000 } });
    expect(measurePerRecord(flow, 250, 120_000 + 50)).toEqual({ ms: 1, hidden: true });
    expect(measurePerRecord(flow, 250, 250_000)).toEqual({ ms: 1000, hidden: false });
    expect(measurePerRecord(flow, 0, 10)).toBeNull();
  });

  it('several runs are weighted by their records', () => {
    expect(
      combineMeasurements([
        { runId: '1', records: 100, ms: 1 },
        { runId: '2', records: 300, ms: 3 },
      ]),
    ).toEqual({ ms: 2.5, runs: ['1', '2'] });
    expect(combineMeasurements([])).toBeNull();
  });
});

describe('runEta', () => {
  const flow = chain(generate(1000), { type: 'batch', params: { size: 100 } }, { type: 'delay', params: { ms: 1000 } });

  it('remaining records at the recent rate, the delays’ waits taken out of the window, plus the waits still owed', () => {
    // records 200..400 settled between t=10 s and t=14 s, two batch boundaries (2 s of waits) inside: 2 s for 200 = 10 ms each
    const eta = runEta({
      flow,
      total: 1000,
      settled: 400,
      now: 15_000,
      window: { fromSeq: 199, fromAt: 10_000, toSeq: 399, toAt: 14_000 },
    });
    // 600 × 10 ms, and batches 5..10 are left: the first of them waits now or has waited, 5 gaps follow
    expect(eta).toEqual({ remainingMs: 600 * 10 + 5 * 1000, at: 15_000 + 11_000, recordsPerSecond: 100 });
  });

  it('counts the wait it is in now', () => {
    const eta = runEta({
      flow,
      total: 1000,
      settled: 400,
      now: 15_000,
      window: null,
      fallbackMsPerRecord: 10,
      waitingUntil: 15_600,
    });
    expect(eta?.remainingMs).toBe(6000 + 5000 + 600);
    expect(eta?.recordsPerSecond).toBeNull();
  });

  it('is unknown without a count, a rate, or when the run read more than expected', () => {
    expect(runEta({ flow, total: null, settled: 1, now: 0, window: null, fallbackMsPerRecord: 1 })).toBeNull();
    expect(runEta({ flow, total: 10, settled: 1, now: 0, window: null })).toBeNull();
    expect(runEta({ flow, total: 10, settled: 11, now: 0, window: null, fallbackMsPerRecord: 1 })).toBeNull();
    expect(runEta({ flow, total: 10, settled: 10, now: 5, window: null, fallbackMsPerRecord: 1 })).toEqual({
      remainingMs: 0,
      at: 5,
      recordsPerSecond: null,
    });
  });
});

describe('fmtMs', () => {
  it('says durations as people do', () => {
    expect([850, 4200, 42_000, 200_000, 7_500_000].map(fmtMs)).toEqual([
      '850 ms',
      '4.2 s',
      '42 s',
      '3 min 20 s',
      '2 h 5 min',
    ]);
  });
});
