import type { BatchInfo, CollectedRecord, RecordOutcome, RunCommit, RunStatusUpdate, RunStore } from '../ports.js';

/** A run store that keeps everything in memory: for engine tests and headless experiments. */
export class MemoryRunStore implements RunStore {
  readonly outcomes: RecordOutcome[] = [];
  readonly collected: CollectedRecord[] = [];
  readonly batches: BatchInfo[] = [];
  readonly statuses: RunStatusUpdate[] = [];
  readonly commits: RunCommit[] = [];

  commit(_runId: string, commit: RunCommit): void {
    this.commits.push(commit);
    this.outcomes.push(...commit.outcomes);
    this.collected.push(...commit.collected);
    if (commit.batch) this.batches.push(commit.batch);
  }

  setStatus(_runId: string, update: RunStatusUpdate): void {
    this.statuses.push(update);
  }

  byStatus(status: RecordOutcome['status']): RecordOutcome[] {
    return this.outcomes.filter((o) => o.status === status);
  }
}
