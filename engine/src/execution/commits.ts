import type { BatchInfo, CollectedRecord, RunCommit } from '../ports.js';
import type { Item } from '../runtime.js';
import type { Checkpoints } from './checkpoints.js';
import type { ExecutionOptions } from './options.js';
import type { RunState } from './state.js';

/**
 * Hands what the run settled to the store: outcomes, collected records, counts and a checkpoint,
 * as one commit per finished batch (or whenever a source has emitted with no batch open, and at the
 * end of the run).
 */
export class Commits {
  private readonly collected: CollectedRecord[] = [];

  constructor(
    private readonly o: Pick<ExecutionOptions, 'runId' | 'store' | 'onEvent'>,
    private readonly state: RunState,
    private readonly checkpoints: Checkpoints,
  ) {}

  /** Keeps what a collect node kept of each item, for the next commit. */
  collect(nodeId: string, items: Item[], data: (item: Item) => unknown): void {
    for (const item of items) {
      const value = data(item);
      if (item.part !== undefined) {
        // a record's parts are kept together, as a list, once the record has settled
        this.state.tracker.collectPart(item.seq, nodeId, value);
        continue;
      }
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
      collected: [...this.collected.splice(0), ...tracker.takeCollected()],
      counts,
      nodeCounts,
      checkpoint: this.checkpoints.take(),
      ...(batch ? { batch } : {}),
    };
    await this.o.store.commit(this.o.runId, commit);
    if (batch) this.o.onEvent?.({ type: 'batch', runId: this.o.runId, batch, counts, nodeCounts });
    await this.state.pace();
  }

  /** Commits only when no batch is open (a batch commits when it finishes). */
  async commitOutsideBatches(): Promise<void> {
    if (this.state.openBatches.size === 0) await this.commit();
  }
}
