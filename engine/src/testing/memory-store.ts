import type {
  BatchInfo,
  CollectedRecord,
  RecordOutcome,
  RunCommit,
  RunStatusUpdate,
  RunStore,
  Waiting,
} from '../ports.js';

/** A run store that keeps everything in memory: for engine tests and headless experiments. */
export class MemoryRunStore implements RunStore {
  readonly outcomes: RecordOutcome[] = [];
  readonly collected: CollectedRecord[] = [];
  readonly batches: BatchInfo[] = [];
  readonly statuses: RunStatusUpdate[] = [];
  readonly commits: RunCommit[] = [];

  commit(_runId: string, commit: RunCommit): void {
    this.commits.push(commit);
    this.lastCheckpoint = commit.checkpoint;
    this.outcomes.push(...commit.outcomes);
    for (const o of commit.outcomes) {
      if (o.outputNode !== undefined)
        this.collected.push({ seq: o.seq, key: o.key, nodeId: o.outputNode, data: o.output });
    }
    this.collected.push(...commit.collected);
    this.collected.sort((a, b) => a.seq - b.seq);
    if (commit.batch) this.batches.push(commit.batch);
  }

  readonly waits: (Waiting | null)[] = [];
  lastCheckpoint: RunCommit['checkpoint'] | undefined;

  setStatus(_runId: string, update: RunStatusUpdate): void {
    this.statuses.push(update);
  }

  setWaiting(_runId: string, waiting: Waiting | null): void {
    this.waits.push(waiting);
  }

  byStatus(status: RecordOutcome['status']): RecordOutcome[] {
    return this.outcomes.filter((o) => o.status === status);
  }
}
