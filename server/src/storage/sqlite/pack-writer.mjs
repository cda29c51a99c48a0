// Stores the outcomes of a write group in the packed layout (outcome-pack.mjs): used by the run
// store's writer thread (outcome-writer.mjs) and by the conversion of outcomes stored before it
// (db/convert-outcomes.ts). JavaScript for the same reason as the writer thread.
/** @import { WriteGroup } from '../outcomes/writer-protocol.js' */
/** @import Database from 'better-sqlite3' */
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
} from '../outcomes/group-layout.mjs';
import { BUCKET_BITS, DETAIL, FAILED, mergeParts, unpack, VarintWriter } from '../outcomes/outcome-pack.mjs';

/**
 * Prepares the statements once, and returns the function that writes a group's outcomes (inside the
 * caller's transaction).
 * @param {Database.Database} db
 */
export function outcomeWriter(db) {
  const insertPack = db.prepare(
    `INSERT INTO outcome_packs (run_id, bucket, part, count, statuses, nodes, base_at, base_batch, meta, keys)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const nextPart = /** @type {Database.Statement<unknown[], number>} */ (
    db.prepare('SELECT COALESCE(MAX(part) + 1, 0) FROM outcome_packs WHERE run_id = ? AND bucket = ?').pluck()
  );
  const earlierParts = db.prepare(
    `SELECT bucket, part, count, nodes, base_at, base_batch, meta, keys FROM outcome_packs
     WHERE run_id = ? AND bucket = ? ORDER BY part`,
  );
  const deleteKey = db.prepare('DELETE FROM outcome_keys WHERE run_id = ? AND key = ? AND seq = ?');
  const deleteDetail = db.prepare('DELETE FROM outcome_details WHERE run_id = ? AND seq = ?');
  const insertOutputs = db.prepare('INSERT INTO outcome_outputs (run_id, bucket, part, outputs) VALUES (?, ?, ?, ?)');
  const insertDetail = db.prepare(
    `INSERT OR REPLACE INTO outcome_details (run_id, seq, status, key, node_id, batch_no, attempts, error_id, payload, at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  /** Key index rows per statement: one call binds many rows, as binding costs more than the insert. */
  const KEYS_PER_STATEMENT = 64;
  /** @type {Map<number, Database.Statement>} */
  const insertKeys = new Map();
  /** @param {number} rows */
  function insertKeysOf(rows) {
    let statement = insertKeys.get(rows);
    if (!statement) {
      statement = db.prepare(
        `INSERT OR REPLACE INTO outcome_keys (run_id, key, seq) VALUES ${new Array(rows).fill('(?, ?, ?)').join(', ')}`,
      );
      insertKeys.set(rows, statement);
    }
    return statement;
  }

  const meta = new VarintWriter();
  const keyBytes = new VarintWriter(); // used as a plain byte buffer: see `bytes`
  const outputBytes = new VarintWriter();
  /** @type {unknown[]} */
  const keyArgs = new Array(KEYS_PER_STATEMENT * 3);
  const BUCKET = 2 ** BUCKET_BITS;

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
   * Stores a group's outcomes: one `outcome_packs` row per bucket of 256 positions it touches (see
   * outcome-pack.mjs), one `outcome_keys` row per outcome (bound many to a statement), and an
   * `outcome_details` row for each failed or cancelled outcome and each one with a payload or error.
   * @param {Pick<WriteGroup, 'runId' | 'names' | 'rows' | 'count' | 'text'>} g
   * @param {(number | null)[]} errors the id in error_messages of each of the group's errors
   */
  function writeOutcomes(g, errors) {
    const { runId, names, rows, count } = g;
    const text = Buffer.from(g.text);
    meta.length = keyBytes.length = outputBytes.length = 0; // a group rolled back may have left bytes
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
      order = order.filter(
        (i, k) => k === order.length - 1 || seqOf(/** @type {number} */ (order[k + 1])) !== seqOf(i),
      );
    const kept = order.length;

    let keyRows = 0;
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
      const part = /** @type {number} */ (nextPart.get(runId, bucket));
      /** @type {Map<number, string> | undefined} */
      let earlier;
      if (part > 0) {
        const rows = /** @type {import('../outcomes/outcome-pack.mjs').PackRow[]} */ (earlierParts.all(runId, bucket));
        earlier = new Map(mergeParts(rows.map(unpack)).map((o) => [o.seq, o.key]));
      }
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
        if (earlierKey !== undefined) {
          deleteDetail.run(runId, seq);
          const before = Buffer.from(earlierKey);
          if (!before.equals(key)) deleteKey.run(runId, before, seq);
        }
        keyArgs[keyRows * 3] = runId;
        keyArgs[keyRows * 3 + 1] = key;
        keyArgs[keyRows * 3 + 2] = seq;
        if (++keyRows === KEYS_PER_STATEMENT) {
          insertKeysOf(keyRows).run(keyArgs);
          keyRows = 0;
        }
        if (detailed) {
          insertDetail.run(
            runId,
            seq,
            status,
            key.toString('utf8'),
            names[/** @type {number} */ (rows[r + NODE])],
            rows[r + BATCH],
            rows[r + ATTEMPTS],
            error < 0 ? null : errors[error],
            payloadLength < 0 ? null : text.toString('utf8', payloadStart, payloadStart + payloadLength),
            rows[r + AT],
          );
        }
      }
      const outputs = outputBytes.take();
      insertPack.run(
        runId,
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
      if (withOutput) insertOutputs.run(runId, bucket, part, outputs);
      from = to;
    }
    if (keyRows > 0) insertKeysOf(keyRows).run(keyArgs.slice(0, keyRows * 3));
  }

  return writeOutcomes;
}
