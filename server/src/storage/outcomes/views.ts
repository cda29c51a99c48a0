import type { RecordError, RecordOutcomeView, RecordStatus } from '@sluice/shared';
import { readStored } from '../stored-json.js';
import type { PackedOutcome } from './outcome-pack.mjs';
import { STATUS_NAME } from './write-group.js';

/**
 * Stored record outcomes as the API gives them, for every store: the rows each store reads (a detail
 * row with its error, a packed outcome) are the same columns, so the views are made once, here.
 */

/** An outcome's detail row joined with its error, as a query reads it. */
export interface OutcomeRow {
  run_id: number | string;
  seq: number;
  key: string;
  status: number;
  node_id: string;
  batch_no: number;
  attempts: number;
  payload: string | null;
  at: number;
  message: string | null;
  code: string | null;
  http_status: number | null;
}

export function toOutcome(o: OutcomeRow): RecordOutcomeView {
  return {
    runId: String(o.run_id),
    seq: o.seq,
    key: o.key,
    status: STATUS_NAME[o.status] as RecordStatus,
    nodeId: o.node_id,
    batchNo: o.batch_no,
    attempts: o.attempts,
    error: errorView(o.message, o.code, o.http_status),
    ...payloadView(o.payload),
    at: new Date(o.at).toISOString(),
  };
}

/** A stored payload, or what is left of one that was cut to the size cap. */
export function payloadView(stored: string | null): Pick<RecordOutcomeView, 'payload' | 'payloadTruncated'> {
  if (stored === null) return { payload: null };
  const { value, truncated } = readStored(stored);
  return truncated ? { payload: value, payloadTruncated: truncated } : { payload: value };
}

export function errorView(message: string | null, code: string | null, httpStatus: number | null): RecordError | null {
  if (message === null) return null;
  return { message, ...(code ? { code } : {}), ...(httpStatus ? { httpStatus } : {}) };
}

/** A packed outcome (one without a detail row: no payload, no error) as the API gives it. */
export function packedView(runId: number | string, o: PackedOutcome): RecordOutcomeView {
  return {
    runId: String(runId),
    seq: o.seq,
    key: o.key,
    status: STATUS_NAME[o.status] as RecordStatus,
    nodeId: o.node,
    batchNo: o.batch,
    attempts: o.attempts,
    error: null,
    payload: null,
    at: new Date(o.at).toISOString(),
  };
}

/**
 * The record a retry feeds again: the stored payload. One cut to the size cap cannot be given back
 * whole; it is fed as stored (the `$truncated` wrapper), so the retried node fails it visibly.
 */
export function replayPayload(stored: string): Record<string, unknown> {
  const { value, truncated } = readStored(stored);
  return (truncated ? JSON.parse(stored) : value) as Record<string, unknown>;
}
