import type { ReadinessCheck, Storage } from '../storage/port.js';

/** The scheduler of a process that runs schedules must have ticked within this long to be ready. */
export const SCHEDULER_TICK_WITHIN_MS = 5_000;

/** What `/api/ready` checks, in this order. */
export const READINESS_CHECKS = ['database', 'migrations', 'writer', 'scheduler'] as const;
export type ReadinessName = (typeof READINESS_CHECKS)[number];

export interface Readiness {
  ready: boolean;
  checks: Record<ReadinessName, ReadinessCheck>;
}

/** What readiness asks of the scheduler (`Scheduler`). */
export interface SchedulerLiveness {
  /** Whether this process runs the schedules (`sluice serve`, not a worker). */
  readonly running: boolean;
  /** When its loop last ended a tick (Date.now). */
  readonly lastTickAt: number | undefined;
}

/**
 * Whether this process is ready to serve: the database answers, its migrations are applied, the run
 * store's writer is alive, and, where this process runs the schedules, the scheduler ticked within
 * the last 5 s. Each check says in words what it found.
 */
export async function readiness(deps: {
  storage: Pick<Storage, 'readiness'>;
  scheduler?: SchedulerLiveness;
  now?: () => number;
}): Promise<Readiness> {
  const stored = await deps.storage.readiness();
  const checks: Record<ReadinessName, ReadinessCheck> = {
    ...stored,
    scheduler: schedulerCheck(deps.scheduler, (deps.now ?? Date.now)()),
  };
  return { ready: READINESS_CHECKS.every((name) => checks[name].ready), checks };
}

function schedulerCheck(scheduler: SchedulerLiveness | undefined, now: number): ReadinessCheck {
  if (!scheduler?.running) return { ready: true, detail: 'this process runs no schedules' };
  const last = scheduler.lastTickAt;
  if (last === undefined) return { ready: false, detail: 'the scheduler has not ticked yet' };
  const ago = now - last;
  if (ago > SCHEDULER_TICK_WITHIN_MS) {
    return { ready: false, detail: `the scheduler last ticked ${(ago / 1000).toFixed(1)} s ago (at most 5 s)` };
  }
  return { ready: true, detail: `ticked ${Math.max(0, Math.round(ago))} ms ago` };
}

/** The checks that failed, named, for the 503's message: "not ready: writer (…); scheduler (…)". */
export function notReadyMessage(r: Readiness): string {
  const failed = READINESS_CHECKS.filter((name) => !r.checks[name].ready);
  return `not ready: ${failed.map((name) => `${name} (${r.checks[name].detail})`).join('; ')}`;
}

/** The first check that failed (the error body's `path`). */
export function firstNotReady(r: Readiness): ReadinessName | undefined {
  return READINESS_CHECKS.find((name) => !r.checks[name].ready);
}
