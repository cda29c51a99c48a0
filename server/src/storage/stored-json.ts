import type { RecordOutcome } from '@sluice/engine';
import type { RecordError } from '@sluice/shared';

/**
 * How payloads and collected outputs are stored, and read back. A stored value is its JSON, or one of
 * three wrappers, each an object with a single `$` key:
 *
 * - `{"$truncated": {bytes, cap, preview}}`: the JSON was longer than the cap (SLUICE_PAYLOAD_CAP);
 *   `preview` is its first `cap` characters and `bytes` its full size in UTF-8.
 * - `{"$outcome": {...}}`: a failed record's collected output whose `payload` and `error` are the
 *   outcome row's own (what the error branch passes on, as the demo flow collects it). Stored once, in
 *   the row's `payload` and `error_id` columns; inside the wrapper they are `null`, and reading puts
 *   the row's back.
 * - `{"$value": …}`: a value that would itself read as one of these wrappers, escaped.
 */
export interface Truncated {
  /** Size of the whole JSON, in bytes of UTF-8. */
  bytes: number;
  /** The cap it was cut to, in characters of JSON. */
  cap: number;
}

const RESERVED = new Set(['$truncated', '$outcome', '$value']);

/** A stored payload (or output that repeats nothing): its JSON, cut to `cap` characters when longer. */
export function storedJson(value: unknown, cap: number): string {
  const json = JSON.stringify(value) ?? 'null';
  if (json.length > cap) {
    return JSON.stringify({ $truncated: { bytes: Buffer.byteLength(json), cap, preview: json.slice(0, cap) } });
  }
  // only JSON starting `{"$` can look like a wrapper: the common case costs one comparison
  return json.startsWith('{"$') && isWrapper(value) ? `{"$value":${json}}` : json;
}

/**
 * A collected output as stored. `outcome` is the record's outcome when it failed and is stored with
 * this output (same row, or same commit): an output that carries that outcome's payload and error
 * (the very objects, as the error branch passes them on) stores them as `null` inside `$outcome`.
 */
export function storedOutput(output: unknown, cap: number, outcome?: RecordOutcome): string {
  if (outcome && repeatsOutcome(output, outcome)) {
    const json = JSON.stringify({ $outcome: { ...output, payload: null, error: null } });
    if (json.length <= cap) return json;
  }
  return storedJson(output, cap);
}

/** A stored value read back: the value (a cut one's preview, as a string) and whether it was cut. */
export interface StoredValue {
  value: unknown;
  truncated?: Truncated;
}

export function readStored(json: string): StoredValue {
  const value = JSON.parse(json) as unknown;
  if (!isWrapper(value)) return { value };
  if ('$value' in value) return { value: value.$value };
  if ('$truncated' in value) {
    const cut = value.$truncated as { bytes: number; cap: number; preview: string };
    return { value: cut.preview, truncated: { bytes: cut.bytes, cap: cut.cap } };
  }
  return { value };
}

/** What a collected output reads as: as the collect node kept it, with the outcome's payload and error put back. */
export interface OutputView {
  data: unknown;
  /** Set when the stored output was cut to the cap. */
  dataTruncated?: Truncated;
  /** Set when the payload put back into `data` was cut to the cap (`data.payload` is then its preview). */
  payloadTruncated?: Truncated;
}

/**
 * Reads a stored output; `row` is the record's outcome row (its stored payload and error), needed
 * only for an output stored as `$outcome`.
 */
export function readOutput(json: string, row: { payload: string | null; error: RecordError | null }): OutputView {
  const parsed = JSON.parse(json) as unknown;
  if (isWrapper(parsed) && '$outcome' in parsed) {
    const data = { ...(parsed.$outcome as Record<string, unknown>) };
    const payload = row.payload === null ? { value: null } : readStored(row.payload);
    data.payload = payload.value;
    data.error = row.error;
    return payload.truncated ? { data, payloadTruncated: payload.truncated } : { data };
  }
  const stored = readStored(json);
  return stored.truncated ? { data: stored.value, dataTruncated: stored.truncated } : { data: stored.value };
}

function isWrapper(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && RESERVED.has(keys[0] as string);
}

/**
 * True when the output carries the failed outcome's payload and error themselves (identity, so the
 * check costs nothing and is exact), and the error has no more than the row keeps of it.
 */
function repeatsOutcome(output: unknown, outcome: RecordOutcome): output is Record<string, unknown> {
  if (outcome.status !== 'failed' || outcome.payload === undefined || outcome.error === undefined) return false;
  if (typeof output !== 'object' || output === null || Array.isArray(output)) return false;
  const o = output as Record<string, unknown>;
  if (o.payload !== outcome.payload || o.error !== outcome.error) return false;
  return Object.keys(outcome.error).every((k) => k === 'message' || k === 'code' || k === 'httpStatus');
}
