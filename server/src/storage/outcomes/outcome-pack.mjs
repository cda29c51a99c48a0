// How a run's record outcomes are stored: packed, many to a row (ARCHITECTURE.md, "Record storage").
// The writer thread packs (outcome-writer.mjs) and the API's queries unpack (outcome-store.ts) with
// this module. JavaScript, not TypeScript, because the writer thread imports it without a
// TypeScript loader; tsc checks it (allowJs + checkJs in server/tsconfig.json).
//
// A run's outcomes are cut into buckets of 256 consecutive positions (seq >> 8). Each group the
// writer stores adds one row to `outcome_packs` per bucket it touches (a bucket split across two
// groups has two parts, read together). A row holds, for its outcomes sorted by seq:
//
// - `meta`: per outcome, nine unsigned varints: seq − bucket × 256, status code (+ DETAIL when the
//   outcome has a row in `outcome_details`: failed, cancelled, or with a payload or error), node (index into
//   the row's `nodes`), output node + 1 (0: none), attempts, batch − base_batch, at − base_at,
//   the key's UTF-8 length, the output's UTF-8 length + 1 (0: none);
// - `keys`: the keys' UTF-8 bytes one after the other; and in `outcome_outputs`, a row of its own
//   keyed like it (a query that does not need them does not read them), the outputs' JSON likewise.
//
// Numbers as varints and node ids named once keep a packed outcome to about ten bytes beside its key.

/** Positions per bucket, as a shift: bucket = seq >> BUCKET_BITS. */
export const BUCKET_BITS = 8;

/** Added to an outcome's status code in `meta` when it has a detail row (a lookup needs it only then). */
export const DETAIL = 4;

/** Status codes as stored (STATUS_CODE in write-group.ts). */
export const SUCCEEDED = 0;
export const FILTERED = 1;
export const FAILED = 2;
export const CANCELLED = 3;

/**
 * One outcome as packed and unpacked.
 * @typedef {{ seq: number, status: number, detail: boolean, node: string, outputNode: string | null, attempts: number,
 *   batch: number, at: number, key: string, output: string | null }} PackedOutcome
 */

/**
 * A row of `outcome_packs` as read back (the columns a reader needs; `outputs` may be left out).
 * @typedef {{ bucket: number, part: number, count: number, nodes: string, base_at: number,
 *   base_batch: number, meta: Uint8Array, keys: Uint8Array, outputs?: Uint8Array | null }} PackRow
 */

/** Appends unsigned varints (7 bits a byte, low first) to a growing buffer. */
export class VarintWriter {
  constructor(capacity = 4096) {
    /** @type {Buffer} */
    this.buf = Buffer.allocUnsafe(capacity);
    this.length = 0;
  }

  /** @param {number} value a non-negative integer below 2^53 */
  put(value) {
    if (this.length + 8 > this.buf.length) this.grow(8);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
  }

  /** @param {number} extra */
  grow(extra) {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + extra));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  /** A copy of what was written; the writer is then empty again. */
  take() {
    const out = Buffer.from(this.buf.subarray(0, this.length));
    this.length = 0;
    return out;
  }
}

/** Reads unsigned varints written by VarintWriter. */
class VarintReader {
  /** @param {Uint8Array} buf */
  constructor(buf) {
    this.buf = buf;
    this.pos = 0;
  }

  get() {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = /** @type {number} */ (this.buf[this.pos++]);
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
    }
  }
}

const decoder = new TextDecoder();

/**
 * Unpacks a row. `outputs` are decoded only when the row carries them (a reader that does not need
 * them leaves the column out of its SELECT, and SQLite then does not read its pages).
 * @param {PackRow} row
 * @returns {PackedOutcome[]}
 */
export function unpack(row) {
  const nodes = /** @type {string[]} */ (JSON.parse(row.nodes));
  const meta = new VarintReader(row.meta);
  const keys = row.keys;
  const outputs = row.outputs ?? null;
  const base = row.bucket * 2 ** BUCKET_BITS;
  /** @type {PackedOutcome[]} */
  const out = new Array(row.count);
  let keyAt = 0;
  let outputAt = 0;
  for (let i = 0; i < row.count; i++) {
    const seq = base + meta.get();
    const coded = meta.get();
    const node = /** @type {string} */ (nodes[meta.get()]);
    const outputNode = meta.get();
    const attempts = meta.get();
    const batch = row.base_batch + meta.get();
    const at = row.base_at + meta.get();
    const keyLength = meta.get();
    const outputLength = meta.get();
    const key = decoder.decode(keys.subarray(keyAt, keyAt + keyLength));
    keyAt += keyLength;
    let output = null;
    if (outputLength > 0) {
      if (outputs) output = decoder.decode(outputs.subarray(outputAt, outputAt + outputLength - 1));
      outputAt += outputLength - 1;
    }
    out[i] = {
      seq,
      status: coded & 3,
      detail: coded >= DETAIL,
      node,
      outputNode: outputNode === 0 ? null : /** @type {string} */ (nodes[outputNode - 1]),
      attempts,
      batch,
      at,
      key,
      output,
    };
  }
  return out;
}

/**
 * The outcomes of a bucket's parts (read in part order), by seq; a seq stored twice (a group
 * written again after a crash) reads as its last part says.
 * @param {PackedOutcome[][]} parts
 * @returns {PackedOutcome[]}
 */
export function mergeParts(parts) {
  if (parts.length === 1) return /** @type {PackedOutcome[]} */ (parts[0]);
  /** @type {Map<number, PackedOutcome>} */
  const bySeq = new Map();
  for (const part of parts) for (const o of part) bySeq.set(o.seq, o);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/**
 * Reads a varint at `pos` of `buf`; returns the value and sets `state.pos` past it. Kept apart from
 * VarintReader so that `find` can skip entries without making an object per outcome.
 * @param {Uint8Array} buf
 * @param {{ pos: number }} state
 */
function varint(buf, state) {
  let result = 0;
  let scale = 1;
  for (;;) {
    const b = /** @type {number} */ (buf[state.pos++]);
    result += (b & 0x7f) * scale;
    if (b < 0x80) return result;
    scale *= 0x80;
  }
}

/**
 * The outcome at position `seq` in a row, or undefined: walks the numbers and decodes only that
 * outcome's strings (one key's history reads one outcome from each of a hundred rows). A caller that
 * knows the key (found by it) may leave `keys` out of the row and pass it as `key`.
 * @param {Omit<PackRow, 'keys'> & { keys?: Uint8Array }} row
 * @param {number} seq
 * @param {string} [key]
 * @returns {PackedOutcome | undefined}
 */
export function find(row, seq, key) {
  const offset = seq - row.bucket * 2 ** BUCKET_BITS;
  const state = { pos: 0 };
  const m = row.meta;
  let keyAt = 0;
  let outputAt = 0;
  for (let i = 0; i < row.count; i++) {
    const at = varint(m, state);
    if (at !== offset) {
      for (let f = 0; f < 6; f++) varint(m, state);
      keyAt += varint(m, state);
      outputAt += Math.max(0, varint(m, state) - 1);
      continue;
    }
    const nodes = /** @type {string[]} */ (JSON.parse(row.nodes));
    const coded = varint(m, state);
    const node = /** @type {string} */ (nodes[varint(m, state)]);
    const outputNode = varint(m, state);
    const attempts = varint(m, state);
    const batch = row.base_batch + varint(m, state);
    const time = row.base_at + varint(m, state);
    const keyLength = varint(m, state);
    const outputLength = varint(m, state);
    const outputs = row.outputs ?? null;
    return {
      seq,
      status: coded & 3,
      detail: coded >= DETAIL,
      node,
      outputNode: outputNode === 0 ? null : /** @type {string} */ (nodes[outputNode - 1]),
      attempts,
      batch,
      at: time,
      key: key ?? decoder.decode((row.keys ?? new Uint8Array()).subarray(keyAt, keyAt + keyLength)),
      output:
        outputLength > 0 && outputs ? decoder.decode(outputs.subarray(outputAt, outputAt + outputLength - 1)) : null,
    };
  }
  return undefined;
}
