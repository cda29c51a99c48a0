import type { BatchInfo, Checkpoint, CollectedRecord, RunCommit } from '../ports.js';
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
  /** The counts and checkpoint of the last commit handed to the store (or of the resumed one). */
  private last: Pick<RunCommit, 'counts' | 'nodeCounts' | 'checkpoint'>;

  constructor(
    private readonly o: Pick<ExecutionOptions, 'runId' | 'store' | 'onEvent' | 'resume'>,
    private readonly state: RunState,
    private readonly checkpoints: Checkpoints,
  ) {
    this.last = {
      counts: { ...state.tracker.counts },
      nodeCounts: state.tracker.nodeCountsById(),
      checkpoint: o.resume?.checkpoint ?? firstCheckpoint(),
    };
  }

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
    this.last = commit;
    await this.o.store.commit(this.o.runId, commit);
    if (batch) this.o.onEvent?.({ type: 'batch', runId: this.o.runId, batch, counts, nodeCounts });
    await this.state.pace();
  }

  /**
   * Stores the last checkpoint again with one node's state replaced, and resolves once it is stored:
   * nothing settled since is in it (its records are not stored yet), so a crash after this resumes
   * exactly as from the last commit, only with the node's new state.
   */
  async saveNodeState(nodeId: string, nodeState: unknown): Promise<void> {
    const { counts, nodeCounts, checkpoint } = this.last;
    const updated: Checkpoint = { ...checkpoint, nodeState: { ...checkpoint.nodeState } };
    if (nodeState === undefined) delete updated.nodeState[nodeId];
    else updated.nodeState[nodeId] = structuredClone(nodeState);
    const commit: RunCommit = { outcomes: [], collected: [], counts, nodeCounts, checkpoint: updated };
    this.last = commit;
    await this.o.store.commit(this.o.runId, commit);
    await this.o.store.flush?.(this.o.runId);
  }

  /** Commits only when no batch is open (a batch commits when it finishes). */
  async commitOutsideBatches(): Promise<void> {
    if (this.state.openBatches.size === 0) await this.commit();
  }
}

/** The checkpoint of a run that has committed nothing yet: it starts from the beginning. */
function firstCheckpoint(): Checkpoint {
  return { version: 1, lowWater: 0, nextBatch: 1, sourcesDone: [], nodeState: {}, breakers: {} };
}
