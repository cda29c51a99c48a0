/** Statuses and names shared by every package; ARCHITECTURE.md defines each of them. */

export const RUN_STATUSES = ['queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A run in one of these statuses will not change again. */
export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];

/** Whether a run in this status is finished (it will not change again). */
export function isFinalRunStatus(status: string): boolean {
  return (FINAL_RUN_STATUSES as readonly string[]).includes(status);
}

/**
 * What finally happened to one record in one run. `cancelled`: the record was read but the run was
 * cancelled before it was processed (it is "not processed", not failed).
 */
export const RECORD_STATUSES = ['succeeded', 'filtered', 'failed', 'cancelled'] as const;
export type RecordStatus = (typeof RECORD_STATUSES)[number];

export const TRIGGER_KINDS = ['manual', 'schedule', 'webhook', 'cli', 'api', 'retry', 'test'] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

export const NODE_GROUPS = ['triggers', 'sources', 'flow control', 'transform', 'shaping', 'sinks', 'errors'] as const;
export type NodeGroup = (typeof NODE_GROUPS)[number];

/** The main output of a node, and the port failed records leave by. */
export const OUT_PORT = 'out';
export const ERROR_PORT = 'error';

/**
 * Record counts of a run. Once it has finished, read = succeeded + filtered + failed + cancelled
 * (cancelled is non-zero only for a cancelled run); while it runs, the difference is in flight.
 */
export interface RunCounts {
  read: number;
  succeeded: number;
  filtered: number;
  failed: number;
  cancelled: number;
}

/** Counts for one node of a run: in = out + error + filtered once the run has finished. */
export interface NodeCounts {
  in: number;
  out: number;
  error: number;
  filtered: number;
  /** Lookups answered from the node's cache instead of a request (HTTP lookup), counted as they happen. */
  cacheHits?: number;
}

export function emptyRunCounts(): RunCounts {
  return { read: 0, succeeded: 0, filtered: 0, failed: 0, cancelled: 0 };
}

export function emptyNodeCounts(): NodeCounts {
  return { in: 0, out: 0, error: 0, filtered: 0 };
}
