// Stores the outcomes of a write group in the packed layout (outcome-pack.mjs), packed by
// pack-group.mjs: this is its SQLite sink, used by the run store's writer thread (outcome-writer.mjs)
// and by the conversion of outcomes stored before it (convert-outcomes.ts). JavaScript for the same
// reason as the writer thread.
/** @import { WriteGroup } from '../outcomes/writer-protocol.js' */
/** @import { PackSink } from '../outcomes/pack-group.mjs' */
/** @import Database from 'better-sqlite3' */
import { mergeParts, unpack } from '../outcomes/outcome-pack.mjs';
import { packGroup } from '../outcomes/pack-group.mjs';

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

  /** @type {unknown[]} */
  const keyArgs = new Array(KEYS_PER_STATEMENT * 3);
  let keyRows = 0;
  /** The run of the group being written (the sink is made once, its statements bound per call). */
  let runId = 0;

  /** @type {PackSink} */
  const sink = {
    earlier(bucket) {
      const part = /** @type {number} */ (nextPart.get(runId, bucket));
      if (part === 0) return { part };
      const rows = /** @type {import('../outcomes/outcome-pack.mjs').PackRow[]} */ (earlierParts.all(runId, bucket));
      return { part, keys: new Map(mergeParts(rows.map(unpack)).map((o) => [o.seq, Buffer.from(o.key)])) };
    },
    forgetEarlier(seq, earlierKey) {
      deleteDetail.run(runId, seq);
      if (earlierKey !== null) deleteKey.run(runId, earlierKey, seq);
    },
    key(key, seq) {
      keyArgs[keyRows * 3] = runId;
      keyArgs[keyRows * 3 + 1] = key;
      keyArgs[keyRows * 3 + 2] = seq;
      if (++keyRows === KEYS_PER_STATEMENT) {
        insertKeysOf(keyRows).run(keyArgs);
        keyRows = 0;
      }
    },
    detail(seq, status, key, node, batch, attempts, errorId, payload, at) {
      insertDetail.run(runId, seq, status, key, node, batch, attempts, errorId, payload, at);
    },
    pack(bucket, part, count, statuses, nodes, baseAt, baseBatch, meta, keys) {
      insertPack.run(runId, bucket, part, count, statuses, nodes, baseAt, baseBatch, meta, keys);
    },
    outputs(bucket, part, outputs) {
      insertOutputs.run(runId, bucket, part, outputs);
    },
  };

  /**
   * Stores a group's outcomes: one `outcome_packs` row per bucket of 256 positions it touches (see
   * outcome-pack.mjs), one `outcome_keys` row per outcome (bound many to a statement), and an
   * `outcome_details` row for each failed or cancelled outcome and each one with a payload or error.
   * @param {Pick<WriteGroup, 'runId' | 'names' | 'rows' | 'count' | 'text'>} g
   * @param {(number | null)[]} errors the id in error_messages of each of the group's errors
   */
  function writeOutcomes(g, errors) {
    runId = g.runId;
    keyRows = 0; // a group rolled back may have left rows unbound
    packGroup(g, errors, sink);
    if (keyRows > 0) insertKeysOf(keyRows).run(keyArgs.slice(0, keyRows * 3));
    keyRows = 0;
  }

  return writeOutcomes;
}
