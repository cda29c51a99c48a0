import type { Operations, RunSummary } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import {
  describeBreaker,
  describeExecutor,
  describePace,
  describeWriter,
  groupByExecutor,
  headline,
  shortLimits,
  shortWaiting,
} from './operations';

const HERE = 'ops-host/4242/abc123';
const WORKER = 'worker-2/77/ffee00';

function run(id: string, status: RunSummary['status'], executor: string | null, waiting: RunSummary['waiting'] = null) {
  return {
    id,
    runNumber: Number(id),
    flowId: 'f',
    flowVersion: 1,
    flowName: 'Flow',
    status,
    trigger: 'api',
    counts: { read: 10, succeeded: 6, filtered: 1, failed: 2, cancelled: 0 },
    error: null,
    waiting,
    retryOf: null,
    scheduledFor: null,
    prunedAt: null,
    executor,
    claims: executor ? 1 : 0,
    createdAt: '2026-01-01T00:00:00.000Z',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: null,
  } satisfies RunSummary;
}

const noLimits = { maxConcurrent: null, maxPerSecond: null, adaptive: false };

describe('the operations screen’s reading', () => {
  it('groups runs by the process executing them: this one first, then others, then the queued nobody took', () => {
    const ops = {
      process: { owner: HERE, executing: 1, concurrency: 4 },
      runs: [
        run('1', 'running', WORKER),
        run('2', 'queued', WORKER),
        run('3', 'running', HERE),
        run('4', 'queued', null),
      ],
    };
    expect(
      groupByExecutor(ops).map((g) => ({ label: g.label, local: g.local, runs: g.runs.map((r) => r.id) })),
    ).toEqual([
      { label: 'This process (ops-host · pid 4242)', local: true, runs: ['3'] },
      { label: 'worker-2 · pid 77', local: false, runs: ['1'] },
      { label: 'Not claimed yet', local: false, runs: ['2', '4'] },
    ]);
    expect(describeExecutor('not-an-owner-id')).toBe('not-an-owner-id');
  });

  it('says what a breaker does and for how long still', () => {
    const now = Date.parse('2026-01-01T00:00:00.000Z');
    const open = { state: 'open' as const, failures: 5, openUntil: '2026-01-01T00:00:24.000Z' };
    expect(describeBreaker({ breaker: open }, now)).toBe('open · 24 s left');
    expect(describeBreaker({ breaker: open }, now + 30_000)).toBe('open · probing soon');
    expect(describeBreaker({ breaker: { state: 'half-open', failures: 5, openUntil: null } }, now)).toBe(
      'half-open · probing',
    );
    expect(describeBreaker({ breaker: { state: 'closed', failures: 2, openUntil: null } })).toBe('closed · 2 failures');
    expect(describeBreaker({ breaker: { state: 'closed', failures: 0, openUntil: null } })).toBe('closed');
    expect(describeBreaker({ breaker: null })).toBe('not used yet');
  });

  it('says limits, the learnt pace, a wait and the writer’s lag in few words', () => {
    expect(shortLimits({ limits: { maxConcurrent: 4, maxPerSecond: 20, adaptive: true } })).toBe(
      '4 at once · 20/s · adaptive',
    );
    expect(shortLimits({ limits: noLimits })).toBe('none');
    expect(describePace({ limits: noLimits, pace: null })).toBe('–');
    expect(describePace({ limits: { ...noLimits, adaptive: true }, pace: null })).toBe('not learnt yet');
    expect(
      describePace({ limits: noLimits, pace: { perSecond: 38.237, concurrency: null, reason: 'throttled' } }),
    ).toBe('38.24/s');
    const now = Date.parse('2026-01-01T00:00:00.000Z');
    expect(
      shortWaiting(
        { kind: 'breaker', nodeId: 'erp', connection: 'erp-sandbox', until: '2026-01-01T00:00:12.000Z' },
        now,
      ),
    ).toEqual({ kind: 'breaker open', detail: 'erp-sandbox · 12 s' });
    expect(shortWaiting({ kind: 'delay', nodeId: 'pause', until: '2025-12-31T00:00:00.000Z' }, now)).toEqual({
      kind: 'delay',
      detail: 'pause',
    });
    expect(describeWriter({ rows: 0, bytes: 0, groups: 0, oldestMs: null })).toBe('up to date');
    expect(describeWriter({ rows: 1200, bytes: 90_000, groups: 2, oldestMs: 340 })).toBe(
      '1,200 rows behind · oldest 340 ms',
    );
  });

  it('counts the headline: running, waiting, queued, open breakers, runs of other processes', () => {
    const waiting = { kind: 'breaker' as const, nodeId: 'erp', connection: 'erp', until: '2026-01-01T00:00:00.000Z' };
    const ops: Operations = {
      at: '2026-01-01T00:00:00.000Z',
      process: { owner: HERE, executing: 2, concurrency: 4 },
      runs: [
        run('1', 'running', HERE, waiting),
        run('2', 'running', WORKER),
        run('3', 'paused', HERE),
        run('4', 'queued', null),
      ],
      schedules: [],
      connections: [
        { name: 'a', baseUrl: 'x', builtIn: false, breaker: null, limits: noLimits, pace: null, status: null },
        {
          name: 'b',
          baseUrl: 'x',
          builtIn: false,
          breaker: { state: 'open', failures: 5, openUntil: null },
          limits: noLimits,
          pace: null,
          status: null,
        },
      ],
      writer: { rows: 0, bytes: 0, groups: 0, oldestMs: null },
    };
    expect(headline(ops)).toEqual({ running: 2, paused: 1, queued: 1, waiting: 1, openBreakers: 1, elsewhere: 1 });
  });
});
