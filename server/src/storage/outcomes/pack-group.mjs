// Packs the outcomes of a write group into the stored layout (outcome-pack.mjs), for every store:
// what goes into each packed row, which outcomes get a key row and a detail row, and what of an
// earlier write of a position must go. Where the rows go is the caller's (a `PackSink`): SQLite's
// writer thread runs its prepared statements (storage/sqlite/pack-writer.mjs), PostgreSQL's run
// store gathers them into one multi-row statement per table. No SQL here. JavaScript for the same
// reason as its neighbours: the SQLite writer thread imports it without a TypeScript loader.
/** @import { WriteGroup } from './writer-protocol.js' */
import {
  AT,
  ATTEMPTS,
  BATCH,
  ERROR,
  FIELDS,
  KEY_BYTES,
  NODE,
  OUTPUT_BYTES,
  OUTPUT_NODE,
  PAYLOAD_BYTES,
  SEQ,
  STATUS,
} from './group-layout.mjs';
import { BUCKET_BITS, DETAIL, FAILED, VarintWriter } from './outcome-pack.mjs';

/**
 * What a bucket already holds before this group writes to it: the part this group's row takes (0
 * when the bucket is new), and, when it has earlier parts, the key (UTF-8) each position stored
 * there has, the last part that has it saying.
 * @typedef {{ part: number, keys?: Map<number, Uint8Array> }} EarlierParts
 */

/**
 * Where a packed group's rows go. Called synchronously, in this order for each bucket: `earlier`,
 * then per outcome `forgetEarlier` (when the position was stored before), `key`, `detail` (when it
 * has a detail row), then `pack` and `outputs` (when some outcome of the bucket has one). Buffers
 * passed in may be views of the group's text: a sink that keeps one past the call copies it.
 * @typedef {object} PackSink
 * @property {(bucket: number) => EarlierParts} earlier
 * @property {(seq: number, earlierKey: Uint8Array | null) => void} forgetEarlier the position was stored
 *   before: its detail row goes, and its key row too when `earlierKey` is given (the key was another)
 * @property {(key: Buffer, seq: number) => void} key a row of `outcome_keys`
 * @property {(seq: number, status: number, key: string, node: string, batch: number, attempts: number,
 *   errorId: number | null, payload: string | null, at: number) => void} detail a row of `outcome_details`
 * @property {(bucket: number, part: number, count: number, statuses: number, nodes: string, baseAt: number,
 *   baseBatch: number, meta: Buffer, keys: Buffer) => void} pack a row of `outcome_packs` (`nodes`: JSON)
 * @property {(bucket: number, part: number, outputs: Buffer) => void} outputs a row of `outcome_outputs`
 */

const BUCKET = 2 ** BUCKET_BITS;
// one set of buffers for the process: packing is synchronous, and each buffer is emptied before use
const meta = new VarintWriter();
const keyBytes = new VarintWriter(); // used as a plain byte buffer: see `bytes`
const outputBytes = new VarintWriter();

/**
 * Appends bytes to a VarintWriter used as a byte buffer.
 * @param {VarintWriter} w
 * @param {Buffer} from
 * @param {number} start
 * @param {number} end
 */
function bytes(w, from, start, end) {
  if (w.length + (end - start) > w.buf.length) w.grow(end - start);
  from.copy(w.buf, w.length, start, end);
  w.length += end - start;
}

/**
 * Packs a group's outcomes: one `outcome_packs` row per bucket of 256 positions it touches, one
 * `outcome_keys` row per outcome, and an `outcome_details` row for each failed or cancelled outcome
 * and each one with a payload or error; the rows go to `sink`.
 * @param {Pick<WriteGroup, 'names' | 'rows' | 'count' | 'text'>} g
 * @param {readonly (number | null)[]} errors the id in error_messages of each of the group's errors
 * @param {PackSink} sink
 */
export function packGroup(g, errors, sink) {
  const { names, rows, count } = g;
  const text = Buffer.from(g.text);
  meta.length = keyBytes.length = outputBytes.length = 0; // a group that failed may have left bytes
  // where each outcome's strings start in `text` (key, payload, output follow each other)
  const starts = new Float64Array(count);
  let sorted = true;
  for (let i = 0, offset = 0; i < count; i++) {
    const r = i * FIELDS;
    starts[i] = offset;
    offset += /** @type {number} */ (rows[r + KEY_BYTES]);
    offset += Math.max(0, /** @type {number} */ (rows[r + PAYLOAD_BYTES]));
    offset += Math.max(0, /** @type {number} */ (rows[r + OUTPUT_BYTES]));
    // in strictly increasing order (the usual case), or to be sorted and rid of repeated positions
    if (i > 0 && /** @type {number} */ (rows[r + SEQ]) <= /** @type {number} */ (rows[r - FIELDS + SEQ]))
      sorted = false;
  }
  let order = Array.from({ length: count }, (_, i) => i);
  if (!sorted)
    order.sort(
      (a, b) => /** @type {number} */ (rows[a * FIELDS + SEQ]) - /** @type {number} */ (rows[b * FIELDS + SEQ]),
    );
  const seqOf = (/** @type {number} */ i) => /** @type {number} */ (rows[i * FIELDS + SEQ]);
  // a position settled twice in the group (two of its commits): the later commit's outcome stands
  // (the sort is stable, so it comes last)
  if (!sorted)
    order = order.filter((i, k) => k === order.length - 1 || seqOf(/** @type {number} */ (order[k + 1])) !== seqOf(i));
  const kept = order.length;

  for (let from = 0; from < kept; ) {
    const bucket = Math.floor(seqOf(/** @type {number} */ (order[from])) / BUCKET);
    let to = from + 1;
    while (to < kept && Math.floor(seqOf(/** @type {number} */ (order[to])) / BUCKET) === bucket) to++;
    let baseAt = Number.POSITIVE_INFINITY;
    let baseBatch = Number.POSITIVE_INFINITY;
    let statuses = 0;
    for (let k = from; k < to; k++) {
      const r = /** @type {number} */ (order[k]) * FIELDS;
      baseAt = Math.min(baseAt, /** @type {number} */ (rows[r + AT]));
      baseBatch = Math.min(baseBatch, /** @type {number} */ (rows[r + BATCH]));
      statuses |= 1 << /** @type {number} */ (rows[r + STATUS]);
    }
    /** @type {string[]} */
    const packNodes = [];
    /** @type {Map<number, number>} */
    const nodeIndex = new Map();
    const local = (/** @type {number} */ name) => {
      let i = nodeIndex.get(name);
      if (i === undefined) {
        i = packNodes.push(/** @type {string} */ (names[name])) - 1;
        nodeIndex.set(name, i);
      }
      return i;
    };
    // A bucket written before (a group written again after a crash, or a group that shares the
    // bucket): a position stored there again leaves no key or detail row of its earlier write behind.
    const { part, keys: earlier } = sink.earlier(bucket);
    let withOutput = false;
    for (let k = from; k < to; k++) {
      const i = /** @type {number} */ (order[k]);
      const r = i * FIELDS;
      const seq = /** @type {number} */ (rows[r + SEQ]);
      const status = /** @type {number} */ (rows[r + STATUS]);
      const outputNode = /** @type {number} */ (rows[r + OUTPUT_NODE]);
      const keyLength = /** @type {number} */ (rows[r + KEY_BYTES]);
      const payloadLength = /** @type {number} */ (rows[r + PAYLOAD_BYTES]);
      const outputLength = /** @type {number} */ (rows[r + OUTPUT_BYTES]);
      const error = /** @type {number} */ (rows[r + ERROR]);
      const keyStart = /** @type {number} */ (starts[i]);
      const payloadStart = keyStart + keyLength;
      const outputStart = payloadStart + Math.max(0, payloadLength);
      meta.put(seq - bucket * BUCKET);
      const detailed = status >= FAILED || payloadLength >= 0 || error >= 0;
      meta.put(detailed ? status + DETAIL : status);
      meta.put(local(/** @type {number} */ (rows[r + NODE])));
      meta.put(outputNode < 0 ? 0 : local(outputNode) + 1);
      meta.put(/** @type {number} */ (rows[r + ATTEMPTS]));
      meta.put(/** @type {number} */ (rows[r + BATCH]) - baseBatch);
      meta.put(/** @type {number} */ (rows[r + AT]) - baseAt);
      meta.put(keyLength);
      meta.put(outputLength < 0 ? 0 : outputLength + 1);
      bytes(keyBytes, text, keyStart, keyStart + keyLength);
      if (outputLength >= 0) {
        withOutput = true;
        bytes(outputBytes, text, outputStart, outputStart + outputLength);
      }
      const key = text.subarray(keyStart, keyStart + keyLength);
      const earlierKey = earlier?.get(seq);
      if (earlierKey !== undefined) sink.forgetEarlier(seq, key.equals(earlierKey) ? null : earlierKey);
      sink.key(key, seq);
      if (detailed) {
        sink.detail(
          seq,
          status,
          key.toString('utf8'),
          /** @type {string} */ (names[/** @type {number} */ (rows[r + NODE])]),
          /** @type {number} */ (rows[r + BATCH]),
          /** @type {number} */ (rows[r + ATTEMPTS]),
          error < 0 ? null : (errors[error] ?? null),
          payloadLength < 0 ? null : text.toString('utf8', payloadStart, payloadStart + payloadLength),
          /** @type {number} */ (rows[r + AT]),
        );
      }
    }
    const outputs = outputBytes.take();
    sink.pack(
      bucket,
      part,
      to - from,
      statuses,
      JSON.stringify(packNodes),
      baseAt,
      baseBatch,
      meta.take(),
      keyBytes.take(),
    );
    if (withOutput) sink.outputs(bucket, part, outputs);
    from = to;
  }
}
