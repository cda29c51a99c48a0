import { EventEmitter } from 'node:events';
import {
  type Clock,
  type Connectors,
  checkFlowForRun,
  type RunEvent,
  type RunHandle,
  type RunResult,
  startRun,
} from '@sluice/engine';
import type { TriggerKind } from '@sluice/shared';
import type { FlowRepository } from '../flows/repository.js';
import { ApiError } from '../http/errors.js';
import type { RunRepository } from './repository.js';
import type { SqliteRunStore } from './sqlite-run-store.js';

export interface RunnerOptions {
  flows: FlowRepository;
  runs: RunRepository;
  store: SqliteRunStore;
  connectors: Connectors;
  clock: Clock;
  /** Runs executing at once; further runs wait `queued`. */
  concurrency?: number;
}

/**
 * The run queue: a started run is stored `queued` and returned at once; runs are picked up in order
 * up to the concurrency limit. Keeps the handles of running runs so they can be cancelled.
 */
export class Runner {
  private readonly queue: string[] = [];
  private readonly active = new Map<string, RunHandle>();
  private readonly waiters = new Map<string, ((r: RunResult) => void)[]>();
  readonly events = new EventEmitter();
  private readonly concurrency: number;

  constructor(private readonly o: RunnerOptions) {
    this.concurrency = o.concurrency ?? 4;
    this.events.setMaxListeners(0);
  }

  /** Queues a run of a flow's latest version; answers 422 when that version has errors. */
  enqueue(flowId: string, trigger: TriggerKind): string {
    const flow = this.o.flows.get(flowId);
    const errors = flow.problems.filter((p) => p.severity === 'error');
    if (errors.length) {
      throw new ApiError(
        422,
        'invalid_flow',
        `the flow has ${errors.length} problem(s) to fix before it can run: ${errors[0]?.message}`,
        errors[0]?.path,
        flow.problems,
      );
    }
    const runId = this.o.runs.create({ flowId, flowVersionId: Number(flow.versionId), flowName: flow.name, trigger });
    this.queue.push(runId);
    queueMicrotask(() => this.pump());
    return runId;
  }

  /** Cancels a queued or running run. */
  cancel(runId: string): void {
    const handle = this.active.get(runId);
    if (handle) {
      handle.cancel();
      return;
    }
    const i = this.queue.indexOf(runId);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.o.runs.markCancelled(runId);
      this.settle(runId);
    }
  }

  /** Resolves when the run reaches a final status. */
  wait(runId: string): Promise<RunResult> {
    const current = this.o.runs.get(runId);
    if (
      ['succeeded', 'failed', 'cancelled'].includes(current.status) &&
      !this.active.has(runId) &&
      !this.queue.includes(runId)
    ) {
      return Promise.resolve({ runId, status: current.status, counts: current.counts, nodeCounts: current.nodeCounts });
    }
    return new Promise((resolve) => this.waiters.set(runId, [...(this.waiters.get(runId) ?? []), resolve]));
  }

  /**
   * Deals with runs a previous process left behind: queued runs are queued again; runs that were
   * executing are marked failed with the reason (resuming them from their last checkpoint is a
   * separate capability).
   */
  recover(): { requeued: number; interrupted: number } {
    let requeued = 0;
    let interrupted = 0;
    for (const run of this.o.runs.unfinished()) {
      if (run.status === 'queued') {
        this.queue.push(run.id);
        requeued++;
      } else {
        this.o.runs.markInterrupted(run.id, 'interrupted: the server stopped while this run was executing');
        interrupted++;
      }
    }
    queueMicrotask(() => this.pump());
    return { requeued, interrupted };
  }

  /** Cancels every running run and waits for them to store what they settled. */
  async stop(): Promise<void> {
    this.queue.length = 0;
    const handles = [...this.active.values()];
    for (const h of handles) h.cancel();
    await Promise.allSettled(handles.map((h) => h.done));
  }

  get activeCount(): number {
    return this.active.size;
  }

  private pump(): void {
    while (this.active.size < this.concurrency && this.queue.length) {
      const runId = this.queue.shift() as string;
      this.launch(runId);
    }
  }

  private launch(runId: string): void {
    const { document } = this.o.runs.versionOf(runId);
    const checked = checkFlowForRun(document ? JSON.parse(document) : null);
    if (!checked.ok || !checked.flow) {
      this.o.store.setStatus(runId, {
        status: 'failed',
        at: this.o.clock.now(),
        error: `the flow version cannot run: ${checked.problems[0]?.message ?? 'missing document'}`,
        counts: { read: 0, succeeded: 0, filtered: 0, failed: 0 },
        nodeCounts: {},
      });
      this.settle(runId);
      return;
    }
    const handle = startRun({
      runId,
      flow: checked.flow,
      clock: this.o.clock,
      store: this.o.store,
      connectors: this.o.connectors,
      onEvent: (event: RunEvent) => this.events.emit('event', event),
    });
    this.active.set(runId, handle);
    handle.done
      .then(
        (result) => this.settle(runId, result),
        (err: unknown) => {
          console.error(`run ${runId} could not be stored:`, err);
          this.settle(runId);
        },
      )
      .finally(() => {
        this.active.delete(runId);
        this.pump();
      });
  }

  private settle(runId: string, result?: RunResult): void {
    const waiters = this.waiters.get(runId) ?? [];
    this.waiters.delete(runId);
    if (!waiters.length) return;
    const final =
      result ??
      (() => {
        const r = this.o.runs.get(runId);
        return { runId, status: r.status, counts: r.counts, nodeCounts: r.nodeCounts };
      })();
    for (const w of waiters) w(final);
  }
}
