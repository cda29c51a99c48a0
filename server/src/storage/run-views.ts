import type { BatchSummary, Page, RunStatus, RunSummary, TriggerKind } from '@sluice/shared';
import { notFound } from '../errors.js';

/**
 * A stored run as the API gives it: the row-to-view mappers every store shares, so a run reads the
 * same from SQLite and from PostgreSQL. No SQL here; each store selects the columns below under
 * these names.
 */

/** A run row as the stores select it (`RUN_COLUMNS` of each), times in epoch ms. */
export interface RunRow {
  id: number;
  flow_id: string | null;
  flow_version_id: number | null;
  version: number | null;
  flow_name: string;
  status: RunStatus;
  trigger: TriggerKind;
  read: number;
  succeeded: number;
  filtered: number;
  failed: number;
  cancelled: number;
  /** JSON text (SQLite) or the value itself (PostgreSQL's jsonb, parsed by the driver). */
  node_counts: string | object;
  error: string | null;
  /** As `node_counts`. */
  waiting: string | StoredWaiting | null;
  retry_of: number | null;
  scheduled_for: number | null;
  pruned_at: number | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  run_number: number | null;
  executor: string | null;
  lease_epoch: number;
}

/** Why a run is not moving, as the run store keeps it (`until` in ms). */
export interface StoredWaiting {
  kind: 'delay' | 'rate' | 'breaker' | 'retry';
  nodeId: string;
  until: number;
  connection?: string;
}

/** A batch row as stored. */
export interface BatchRow {
  batch_no: number;
  size: number;
  succeeded: number;
  filtered: number;
  failed: number;
  started_at: number;
  finished_at: number | null;
}

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A JSON column read back: SQLite gives its text, PostgreSQL's driver the parsed value. */
export function jsonValue<T>(stored: string | object): T {
  return (typeof stored === 'string' ? JSON.parse(stored) : stored) as T;
}

export function toSummary(r: RunRow): RunSummary {
  return {
    id: String(r.id),
    runNumber: r.run_number,
    flowId: r.flow_id,
    flowVersion: r.version,
    flowName: r.flow_name,
    status: r.status,
    trigger: r.trigger,
    counts: { read: r.read, succeeded: r.succeeded, filtered: r.filtered, failed: r.failed, cancelled: r.cancelled },
    error: r.error,
    waiting: r.waiting ? toWaiting(r.waiting) : null,
    retryOf: r.retry_of === null ? null : String(r.retry_of),
    scheduledFor: iso(r.scheduled_for),
    prunedAt: iso(r.pruned_at),
    executor: r.executor,
    claims: Number(r.lease_epoch),
    createdAt: iso(r.created_at) as string,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
  };
}

export function toWaiting(stored: string | StoredWaiting): RunSummary['waiting'] {
  const w = jsonValue<StoredWaiting>(stored);
  return { ...w, until: new Date(w.until).toISOString() };
}

export function toBatch(b: BatchRow): BatchSummary {
  return {
    batchNo: b.batch_no,
    size: b.size,
    succeeded: b.succeeded,
    filtered: b.filtered,
    failed: b.failed,
    startedAt: iso(b.started_at) as string,
    finishedAt: iso(b.finished_at),
  };
}

/** A page of `limit` items from `limit + 1` rows: the extra row only says there is a next page. */
export function page<T>(rows: T[], limit: number, cursorOf: (row: T) => string | number): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last !== undefined ? String(cursorOf(last)) : null };
}

/** A run id from the API as the stores key it; anything that cannot be one is a run that does not exist. */
export function toId(id: string): number {
  const n = Number(id);
  if (!Number.isSafeInteger(n) || n <= 0) throw notFound('run', id);
  return n;
}
