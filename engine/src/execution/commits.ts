import type { BatchInfo, CollectedRecord, RunCommit } from '../ports.js';
import type { Item } from '../runtime.js';
import type { Checkpoints } from './checkpoints.js';
import type { ExecutionOptions } from './options.js';
import type { RunState } from './state.js';

/** The longest stretch of work between two turns of the event loop, in milliseconds. */
const YIELD_EVERY_MS = 4;

/**
 * Hands what the run settled to the store: outcomes, collected records, counts and a checkpoint,
 * as one commit per finished batch (or whenever a source has emitted with no batch open, and at the
 * end of the run).
 */
export class Commits {
  private readonly collected: CollectedRecord[] = [];
  private lastYield: number;

  constructor(
    private readonly o: Pick<ExecutionOptions, 'runId' | 'store' | 'onEvent' | 'runtime'>,
    private readonly state: RunState,
    private readonly checkpoints: Checkpoints,
  ) {
    this.lastYield = o.runtime.monotonicNow();
  }

  /** Keeps what a collect node kept of each item, for the next commit. */
  collect(nodeId: string, items: Item[], data: (item: Item) => unknown): void {
    for (const item of items) {
      const value = data(item);
      // kept with the record's outcome row; only a record reaching a second collect node needs a row of its own
      if (!this.state.tracker.setOutput(item.seq, nodeId, value)) {
        this.collected.push({ seq: item.seq, key: item.key, nodeId, data: value });
      }
    }
  }

  /** Commits what settled since the last commit, as batch `batch` when one has just finished. */
  async commit(batch?: BatchInfo): Promise<void> {
    const { tracker } = this.state;
    const outcomes = tracker.take();
    if (!batch && outcomes.length === 0 && this.collected.length === 0) return;
    if (batch) {
      for (const o of outcomes) if (o.batchNo === batch.batchNo && o.status !== 'cancelled') batch[o.status]++;
      batch.size = batch.succeeded + batch.filtered + batch.failed;
    }
    const counts = { ...tracker.counts };
    const nodeCounts = tracker.nodeCountsById();
    const commit: RunCommit = {
      outcomes,
      collected: this.collected.splice(0),
      counts,
      nodeCounts,
      checkpoint: this.checkpoints.take(),
      ...(batch ? { batch } : {}),
    };
    await this.o.store.commit(this.o.runId, commit);
    if (batch) this.o.onEvent?.({ type: 'batch', runId: this.o.runId, batch, counts, nodeCounts });
    await this.yieldNow();
  }

  /** Commits only when no batch is open (a batch commits when it finishes). */
  async commitOutsideBatches(): Promise<void> {
    if (this.state.openBatches.size === 0) await this.commit();
  }

  /**
   * Lets the process's other work run (the API, other runs) at least every few milliseconds: a flow
   * with no I/O of its own would otherwise hold the event loop for the whole run.
   */
  private async yieldNow(): Promise<void> {
    const { runtime } = this.o;
    if (runtime.monotonicNow() - this.lastYield < YIELD_EVERY_MS) return;
    await runtime.yield();
    this.lastYield = runtime.monotonicNow();
  }
}
