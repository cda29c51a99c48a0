/**
 * What the engine needs from the outside world. The engine does no I/O of its own: the server (or a
 * test) supplies a clock, a run store and connectors that satisfy these interfaces.
 */
import type { NodeCounts, RecordError, RecordStatus, RunCounts, RunStatus } from '@sluice/shared';

/** Time, injected so tests can drive delays and backoff with a simulated clock. Same shape as XState's clock. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/** One record's final outcome in a run. */
export interface RecordOutcome {
  /** Position of the record in the run's read order, from 0. */
  seq: number;
  key: string;
  status: RecordStatus;
  /** Node where it failed or was filtered; for a success, the node where its path ended. */
  nodeId: string;
  batchNo: number;
  attempts: number;
  error?: RecordError;
  /** For a failed record: the record as it entered the failing node (what was sent). */
  payload?: unknown;
  at: number;
}

export interface CollectedRecord {
  seq: number;
  key: string;
  nodeId: string;
  data: unknown;
}

export interface BatchInfo {
  batchNo: number;
  size: number;
  startedAt: number;
  finishedAt: number;
  succeeded: number;
  filtered: number;
  failed: number;
}

/** Everything settled since the last commit; a commit is the unit that is stored atomically. */
export interface RunCommit {
  batch?: BatchInfo;
  outcomes: RecordOutcome[];
  collected: CollectedRecord[];
  counts: RunCounts;
  nodeCounts: Record<string, NodeCounts>;
}

export interface RunStatusUpdate {
  status: RunStatus;
  at: number;
  error?: string;
  counts: RunCounts;
  nodeCounts: Record<string, NodeCounts>;
}

/** Where the engine reports a run's progress. Implementations may be synchronous. */
export interface RunStore {
  /** Stores outcomes, collected records and counts of one batch (or of the tail of the run) atomically. */
  commit(runId: string, commit: RunCommit): void | Promise<void>;
  /** Records a change of the run's status. */
  setStatus(runId: string, update: RunStatusUpdate): void | Promise<void>;
}

export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends one HTTP request. Rejects with an `HttpFailure` on network errors and timeouts. */
export type HttpClient = (request: HttpRequest) => Promise<HttpResponse>;

/** A connection resolved for use: where the system is and the headers that authenticate. */
export interface ResolvedConnection {
  name: string;
  baseUrl: string;
  headers: Record<string, string>;
}

export interface Connectors {
  http: HttpClient;
  /** Resolves a connection by name; undefined when there is none by that name. */
  connection(name: string): ResolvedConnection | undefined;
}

/** A live event of a run, for progress displays. */
export type RunEvent =
  | { type: 'status'; runId: string; status: RunStatus; counts: RunCounts }
  | { type: 'batch'; runId: string; batch: BatchInfo; counts: RunCounts; nodeCounts: Record<string, NodeCounts> };

/** A network error or timeout while sending a request. */
export class HttpFailure extends Error {
  constructor(
    message: string,
    readonly code: 'network' | 'timeout' | 'aborted',
  ) {
    super(message);
    this.name = 'HttpFailure';
  }
}
