import { emptyRunCounts, FINAL_RUN_STATUSES, type NodeCounts, type RunCounts, type RunStatus } from '@sluice/shared';
import { createActor, type SnapshotFrom } from 'xstate';
import type { ExecutionOptions } from './execution/options.js';
import type { NodeTestData } from './execution/test-run.js';
import type { Watermarks } from './ports.js';
import { runMachine } from './run-machine.js';

/** What a run is started with: what its execution needs, and whether it starts paused. */
export interface RunOptions extends Omit<ExecutionOptions, 'signal' | 'gate'> {
  /** Start paused (a run that was paused when its process died). */
  paused?: boolean;
}

export interface RunResult {
  runId: string;
  status: RunStatus;
  error?: string;
  counts: RunCounts;
  nodeCounts: Record<string, NodeCounts>;
  /**
   * Incremental sources: their watermark after the run (node id → largest value read). Given for
   * every final status; store it only when the run `succeeded`.
   */
  watermarks?: Watermarks;
  /** A test run: what each node received, emitted and failed, by node id. */
  test?: Record<string, NodeTestData>;
}

export interface RunHandle {
  runId: string;
  /** Settles when the run reaches a final status (after its last outcomes are stored). */
  done: Promise<RunResult>;
  pause(): void;
  resume(): void;
  cancel(): void;
  status(): RunStatus;
}

/** The run status a snapshot of the lifecycle machine stands for. */
export function statusOf(snapshot: SnapshotFrom<typeof runMachine>): RunStatus {
  if (snapshot.matches({ active: 'paused' })) return 'paused';
  if (snapshot.matches('active')) return 'running';
  return snapshot.value as RunStatus;
}

/** Starts a run of a validated flow; its status changes are written to the store as they happen. */
export function startRun(options: RunOptions): RunHandle {
  const { runId, clock, store } = options;
  const { paused, ...execution } = options;
  const actor = createActor(runMachine, {
    input: { execution, paused: paused ?? false },
    clock: { setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: (id) => clock.clearTimeout(id) },
  });
  const restored = options.resume?.counts;
  const initialCounts = (): RunCounts => restored ?? emptyRunCounts();
  let writes: Promise<void> = Promise.resolve();
  let last: RunStatus | undefined;

  const done = new Promise<RunResult>((resolve, reject) => {
    actor.subscribe({
      next: (snapshot) => {
        const status = statusOf(snapshot);
        if (status === last) return;
        last = status;
        const result = snapshot.context.result;
        const update = {
          status,
          at: clock.now(),
          counts: result?.counts ?? initialCounts(),
          nodeCounts: result?.nodeCounts ?? options.resume?.nodeCounts ?? {},
          ...(snapshot.context.error ? { error: snapshot.context.error } : {}),
        };
        const final = FINAL_RUN_STATUSES.includes(status);
        const stored = final ? update : { status, at: update.at };
        writes = writes.then(() => store.setStatus(runId, stored));
        options.onEvent?.({ type: 'status', runId, status, counts: update.counts });
        if (!FINAL_RUN_STATUSES.includes(status)) return;
        writes.then(
          () =>
            resolve({
              runId,
              status,
              counts: update.counts,
              nodeCounts: update.nodeCounts,
              ...(update.error ? { error: update.error } : {}),
              ...(result?.watermarks ? { watermarks: result.watermarks } : {}),
              ...(result?.test ? { test: result.test } : {}),
            }),
          reject,
        );
      },
      error: reject,
    });
  });

  actor.start();
  actor.send({ type: 'START' });
  return {
    runId,
    done,
    pause: () => actor.send({ type: 'PAUSE' }),
    resume: () => actor.send({ type: 'RESUME' }),
    cancel: () => actor.send({ type: 'CANCEL' }),
    status: () => statusOf(actor.getSnapshot()),
  };
}
