import type { Flow } from './flow.js';
import type { Problem } from './validate.js';
import type { NodeCounts, RecordStatus, RunCounts, RunStatus, TriggerKind } from './vocabulary.js';

/** Body of every error answer of the HTTP API. */
export interface ApiErrorBody {
  error: { code: string; message: string; path?: string; problems?: Problem[] };
}

export interface FlowSummary {
  id: string;
  name: string;
  description: string | null;
  latestVersion: number;
  /** The version schedules and webhooks run; null until published. */
  publishedVersion: number | null;
  /** Whether its schedules fire and its webhooks accept records. */
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface FlowVersionSummary {
  version: number;
  versionId: string;
  createdAt: string;
  published: boolean;
  /** Errors in this version's document (a version with errors cannot be published or run). */
  errors: number;
}

export interface FlowDetail extends FlowSummary {
  /** The version whose document this is. */
  version: number;
  versionId: string;
  document: Flow;
  problems: Problem[];
}

/** What a failed record carries: the reason, and where and how often it was tried. */
export interface RecordError {
  message: string;
  code?: string;
  httpStatus?: number;
}

export interface RunSummary {
  id: string;
  flowId: string | null;
  flowVersion: number | null;
  flowName: string;
  status: RunStatus;
  trigger: TriggerKind;
  counts: RunCounts;
  error: string | null;
  /** Why the run is not moving right now: a delay, a rate limit, an open circuit breaker, a retry wait. */
  waiting: { kind: 'delay' | 'rate' | 'breaker' | 'retry'; nodeId: string; until: string; connection?: string } | null;
  /** For a retry run: the run whose failed records it feeds again. */
  retryOf: string | null;
  /** For a scheduled run: the fire time it was started for. */
  scheduledFor: string | null;
  /** When retention removed its record outcomes (its summary and counts stay). */
  prunedAt: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface BatchSummary {
  batchNo: number;
  size: number;
  succeeded: number;
  filtered: number;
  failed: number;
  startedAt: string;
  finishedAt: string | null;
}

export interface RunDetail extends RunSummary {
  nodeCounts: Record<string, NodeCounts>;
  batches: BatchSummary[];
}

export interface RecordOutcomeView {
  runId: string;
  seq: number;
  key: string;
  status: RecordStatus;
  nodeId: string;
  batchNo: number;
  attempts: number;
  error: RecordError | null;
  /** The record as it was when it failed (the payload sent, for a write), kept for failed records. */
  payload: unknown;
  /** Set when the stored payload was cut to the size cap: its full size and the cap. */
  payloadTruncated?: { bytes: number; cap: number };
  at: string;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}
