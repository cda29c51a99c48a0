import type { Waiting } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { formatTimestamp } from './format';
import { describeLimits, describeWaiting, limitWaitLine } from './waiting';

const at = '2026-12-02T14:00:05.000Z';
const now = Date.parse('2026-12-02T14:00:00.000Z');

describe('waiting in words', () => {
  it('names the connection and its limits on the node', () => {
    expect(limitWaitLine({ connection: 'erp', limits: { maxPerSecond: 20 } })).toBe("Waiting for erp's limit (20/s)");
    expect(limitWaitLine({ connection: 'erp', limits: { maxConcurrent: 2, maxPerSecond: 0.5 } })).toBe(
      "Waiting for erp's limit (2 at once, 0.5/s)",
    );
    expect(limitWaitLine({})).toBe('Waiting for the connection’s limit');
    // adaptive pacing: the pace learnt, not the maxima
    const pace = { perSecond: 38.2, concurrency: null, reason: 'recovering' };
    expect(limitWaitLine({ connection: 'erp', limits: { maxPerSecond: 100, adaptive: true }, pace })).toBe(
      'Learnt pace 38.2/s',
    );
    expect(limitWaitLine({ pace: { perSecond: 12, concurrency: 4, reason: 'throttled' } })).toBe('Learnt pace 12/s');
    expect(limitWaitLine({ connection: 'erp', pace: { perSecond: null, concurrency: 3, reason: 'latency' } })).toBe(
      'Learnt pace 3 at once',
    );
    expect(
      describeWaiting({
        kind: 'limit',
        nodeId: 'write',
        until: '2026-12-03T08:00:00.000Z',
        connection: 'erp',
        limits: { maxPerSecond: 100, maxConcurrent: 8, adaptive: true },
        pace: { perSecond: 37.8, concurrency: 8, reason: 'recovering' },
      }),
    ).toBe(
      'Paced at write by what erp takes, learnt from its answers: 37.8/s, 8 at once (speeding up again); never above 8 at a time, 100 requests/s.',
    );
  });

  it('describes the limits of a connection, or none', () => {
    expect(describeLimits({ maxConcurrent: 4, maxPerSecond: 20 })).toBe('4 at a time, 20 requests/s');
    expect(describeLimits({ maxConcurrent: null, maxPerSecond: 1 / 3 })).toBe('0.33 requests/s');
    expect(describeLimits(undefined)).toBe('none');
    expect(describeLimits({ maxPerSecond: 100, adaptive: true })).toBe('100 requests/s, pace learnt from the system');
  });

  it('says in the run panel what a limit holds, and when the next request goes if the pace set it', () => {
    const paced: Waiting = {
      kind: 'limit',
      nodeId: 'write',
      until: at,
      connection: 'erp',
      limits: { maxPerSecond: 20 },
    };
    expect(describeWaiting(paced, now)).toBe(
      `Waiting at write for the limits of erp (20 requests/s, shared by every run and worker); the next request goes at ${formatTimestamp(at)}.`,
    );
    const full: Waiting = { ...paced, until: '2026-12-02T13:59:59.000Z', limits: { maxConcurrent: 2 } };
    expect(describeWaiting(full, now)).toBe(
      'Waiting at write for the limits of erp (2 at a time, shared by every run and worker).',
    );
  });

  it('keeps the other kinds of wait as they were', () => {
    const base = { nodeId: 'n', until: at };
    expect(describeWaiting({ ...base, kind: 'breaker', connection: 'erp' }, now)).toContain('circuit breaker');
    expect(describeWaiting({ ...base, kind: 'rate' }, now)).toBe(
      `Waiting for the rate limit of n (until ${formatTimestamp(at)}).`,
    );
    expect(describeWaiting({ ...base, kind: 'retry' }, now)).toContain('retry');
    expect(describeWaiting({ ...base, kind: 'delay' }, now)).toContain('between batches');
  });
});
