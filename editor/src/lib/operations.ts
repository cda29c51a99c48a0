/**
 * The operations screen's reading of `GET /api/operations` (and of the alert deliveries): runs
 * grouped by the process that executes them, a connection's breaker and pace in words, the
 * headline figures. Pure functions, so they are tested without a browser.
 */
import type { Operations, OperationsConnection, RunSummary } from '@sluice/shared';
import { formatDuration } from './format';
import { formatRate, shortPace } from './waiting';

/** The runs one process executes (or, `executor` null, the queued runs no process has taken up). */
export interface ExecutorGroup {
  executor: string | null;
  /** How the group is titled: "This process (host · pid 123)", "host · pid 456", "Not claimed yet". */
  label: string;
  /** Whether it is the process that answered (the one the editor talks to). */
  local: boolean;
  runs: RunSummary[];
}

/** "host · pid 123" from an executor id `host/pid/random`; the id itself when it has another form. */
export function describeExecutor(executor: string): string {
  const [host, pid, ...rest] = executor.split('/');
  if (!host || !pid || rest.length !== 1 || !/^\d+$/.test(pid)) return executor;
  return `${host} · pid ${pid}`;
}

/**
 * The unfinished runs grouped by executor: this process first, then the others by name, then the
 * queued runs nobody took up. A queued run that was claimed before (a run given back) counts with
 * the runs nobody holds: its executor is history, not who runs it.
 */
export function groupByExecutor(ops: Pick<Operations, 'runs' | 'process'>): ExecutorGroup[] {
  const groups = new Map<string | null, RunSummary[]>();
  for (const run of ops.runs) {
    const key = run.status === 'queued' ? null : run.executor;
    const list = groups.get(key) ?? [];
    list.push(run);
    groups.set(key, list);
  }
  const owner = ops.process.owner;
  const order = (k: string | null) => (k === owner ? 0 : k === null ? 2 : 1);
  return [...groups]
    .sort(([a], [b]) => order(a) - order(b) || String(a).localeCompare(String(b)))
    .map(([executor, runs]) => ({
      executor,
      local: executor === owner,
      label:
        executor === null
          ? 'Not claimed yet'
          : executor === owner
            ? `This process (${describeExecutor(executor)})`
            : describeExecutor(executor),
      runs,
    }));
}

/** The breaker in a word or two, and how long it still holds: "open · 24 s left", "closed", "not used yet". */
export function describeBreaker(c: Pick<OperationsConnection, 'breaker'>, now: number = Date.now()): string {
  const b = c.breaker;
  if (!b) return 'not used yet';
  if (b.state === 'closed')
    return b.failures ? `closed · ${b.failures} failure${b.failures === 1 ? '' : 's'}` : 'closed';
  const left = b.openUntil ? Date.parse(b.openUntil) - now : null;
  if (b.state === 'half-open') return 'half-open · probing';
  return left !== null && left > 0 ? `open · ${formatDuration(left)} left` : 'open · probing soon';
}

/** The pace adaptive pacing learnt: "38.2/s (slowed by 429/503 answers)"; "–" when none was learnt. */
export function describePace(c: Pick<OperationsConnection, 'pace' | 'limits'>): string {
  if (!c.pace) return c.limits.adaptive ? 'not learnt yet' : '–';
  return shortPace(c.pace);
}

/** The limits in the fewest words: "4 at once · 20/s"; "none". */
export function shortLimits(c: Pick<OperationsConnection, 'limits'>): string {
  const parts: string[] = [];
  if (c.limits.maxConcurrent !== null) parts.push(`${c.limits.maxConcurrent} at once`);
  if (c.limits.maxPerSecond !== null) parts.push(`${formatRate(c.limits.maxPerSecond)}/s`);
  if (c.limits.adaptive) parts.push('adaptive');
  return parts.length ? parts.join(' · ') : 'none';
}

/** The headline figures of the screen's top row. */
export interface Headline {
  running: number;
  paused: number;
  queued: number;
  waiting: number;
  openBreakers: number;
  /** Runs of other processes (workers), when there are any. */
  elsewhere: number;
}

export function headline(ops: Operations): Headline {
  const count = (status: RunSummary['status']) => ops.runs.filter((r) => r.status === status).length;
  return {
    running: count('running'),
    paused: count('paused'),
    queued: count('queued'),
    waiting: ops.runs.filter((r) => r.status === 'running' && r.waiting !== null).length,
    openBreakers: ops.connections.filter((c) => c.breaker && c.breaker.state !== 'closed').length,
    elsewhere: ops.runs.filter((r) => r.status !== 'queued' && r.executor !== null && r.executor !== ops.process.owner)
      .length,
  };
}

/** The writer's lag in words: "up to date", "1,200 rows behind · oldest 340 ms". */
export function describeWriter(w: Operations['writer']): string {
  if (w.rows === 0 && w.groups === 0) return 'up to date';
  const rows = `${w.rows.toLocaleString('en-US')} row${w.rows === 1 ? '' : 's'} behind`;
  return w.oldestMs !== null ? `${rows} · oldest ${formatDuration(w.oldestMs)}` : rows;
}

/** A run's progress: "1,200 read · 1,150 done · 12 failed". */
export function describeProgress(run: RunSummary): string {
  const c = run.counts;
  const done = c.succeeded + c.failed + c.filtered + c.cancelled;
  const parts = [`${c.read.toLocaleString('en-US')} read`, `${done.toLocaleString('en-US')} done`];
  if (c.failed) parts.push(`${c.failed.toLocaleString('en-US')} failed`);
  return parts.join(' · ');
}

/** What a run waits on, in a few words for a table cell, and for how long still. */
export function shortWaiting(
  w: NonNullable<RunSummary['waiting']>,
  now: number = Date.now(),
): {
  kind: string;
  detail: string;
} {
  const left = Date.parse(w.until) - now;
  const time = left > 0 ? formatDuration(left) : null;
  const on = w.connection ?? w.nodeId;
  const kinds: Record<typeof w.kind, string> = {
    breaker: 'breaker open',
    limit: 'connection limit',
    rate: 'rate limit',
    retry: 'retry',
    delay: 'delay',
  };
  const detail = w.kind === 'breaker' || w.kind === 'limit' ? on : w.nodeId;
  return { kind: kinds[w.kind], detail: time ? `${detail} · ${time}` : detail };
}
