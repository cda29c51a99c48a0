import { FINAL_RUN_STATUSES, type Flow, type NodeCounts, type RunCounts, type RunStatus } from '@sluice/shared';
import { createActor } from 'xstate';
import type { Clock, Connectors, RunEvent, RunStore } from './ports.js';
import { runMachine } from './run-machine.js';

export interface RunOptions {
  runId: string;
  /** A flow that passed `validateFlow`. */
  flow: Flow;
  clock: Clock;
  store: RunStore;
  connectors: Connectors;
  random?: () => number;
  onEvent?: (event: RunEvent) => void;
}

export interface RunResult {
  runId: string;
  status: RunStatus;
  error?: string;
  counts: RunCounts;
  nodeCounts: Record<string, NodeCounts>;
}

export interface RunHandle {
  runId: string;
  /** Settles when the run reaches a final status (after its last outcomes are stored). */
  done: Promise<RunResult>;
  cancel(): void;
  status(): RunStatus;
}

/** Starts a run of a validated flow; its status changes are written to the store as they happen. */
export function startRun(options: RunOptions): RunHandle {
  const { runId, clock, store } = options;
  const actor = createActor(runMachine, {
    input: { execution: options },
    clock: { setTimeout: (fn, ms) => clock.setTimeout(fn, ms), clearTimeout: (id) => clock.clearTimeout(id) },
  });
  const empty = (): RunCounts => ({ read: 0, succeeded: 0, filtered: 0, failed: 0 });
  let writes: Promise<void> = Promise.resolve();
  let last: RunStatus = 'queued';

  const done = new Promise<RunResult>((resolve, reject) => {
    actor.subscribe({
      next: (snapshot) => {
        const status = snapshot.value as RunStatus;
        if (status === last && status !== 'queued') return;
        last = status;
        const result = snapshot.context.result;
        const update = {
          status,
          at: clock.now(),
          counts: result?.counts ?? empty(),
          nodeCounts: result?.nodeCounts ?? {},
          ...(snapshot.context.error ? { error: snapshot.context.error } : {}),
        };
        writes = writes.then(() => store.setStatus(runId, update));
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
    cancel: () => actor.send({ type: 'CANCEL' }),
    status: () => actor.getSnapshot().value as RunStatus,
  };
}
