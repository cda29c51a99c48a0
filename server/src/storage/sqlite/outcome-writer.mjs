// The run store's writer thread: it owns a connection of its own to the database file and writes
// the groups of commits the run store sends (`WriteGroup`), so storing the outcomes of one batch
// overlaps with the engine processing the next.
// Plain JavaScript: a worker thread is started from a file, without the TypeScript loader. tsc
// checks it against the protocol's types (writer-protocol.ts) and the layout both sides share.
/** @import { FromWriter, ToWriter, WriteGroup, WriterData } from '../outcomes/writer-protocol.js' */
/** @import { RecordError } from '@sluice/shared' */
import { parentPort as parent, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { outcomeWriter } from './pack-writer.mjs';

if (!parent) throw new Error("outcome-writer.mjs runs as the run store's worker thread, not on its own");
const port = parent;
const data = /** @type {WriterData} */ (workerData);

/** @param {FromWriter} message */
const send = (message) => port.postMessage(message);

const db = new Database(data.file);
// the same settings as every other connection (CONNECTION_PRAGMAS in storage/sqlite/open.ts), except that it
// leaves checkpoints to the checkpoint thread (checkpointer.mjs), so it never waits for the disk
for (const pragma of data.pragmas) db.pragma(pragma);
db.pragma('wal_autocheckpoint = 0');

const insertCollected = db.prepare(
  'INSERT OR REPLACE INTO collected_records (run_id, node_id, seq, key, data) VALUES (?, ?, ?, ?, ?)',
);
const insertBatch = db.prepare(
  `INSERT OR REPLACE INTO batches (run_id, batch_no, size, succeeded, filtered, failed, started_at, finished_at)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
);
const updateCounts = db.prepare(
  `UPDATE runs SET read = ?, succeeded = ?, filtered = ?, failed = ?, cancelled = ?, node_counts = ?, checkpoint = ?
   WHERE id = ?`,
);
/** The same, only while the run's lease epoch is still the writer's (fencing: see writer-protocol.ts). */
const updateCountsFenced = db.prepare(
  `UPDATE runs SET read = ?, succeeded = ?, filtered = ?, failed = ?, cancelled = ?, node_counts = ?, checkpoint = ?
   WHERE id = ? AND lease_epoch = ?`,
);
const findError = /** @type {Database.Statement<unknown[], { id: number }>} */ (
  db.prepare('SELECT id FROM error_messages WHERE message = ? AND code IS ? AND http_status IS ?')
);
const insertError = db.prepare('INSERT INTO error_messages (message, code, http_status) VALUES (?, ?, ?)');
const writeOutcomes = outcomeWriter(db);
send({ ready: true });

/** @type {Map<string, number>} */
const errorIds = new Map();

/**
 * The id of an error's message in error_messages, made the first time it is seen.
 * @param {RecordError} error
 */
function errorId(error) {
  const code = error.code ?? null;
  const status = error.httpStatus ?? null;
  const cacheKey = `${code}\u0000${status}\u0000${error.message}`;
  const cached = errorIds.get(cacheKey);
  if (cached !== undefined) return cached;
  const found = findError.get(error.message, code, status);
  const id = found?.id ?? Number(insertError.run(error.message, code, status).lastInsertRowid);
  if (errorIds.size > 10_000) errorIds.clear();
  errorIds.set(cacheKey, id);
  return id;
}

/** A group refused because another process holds the run's lease now. */
class LeaseLost extends Error {}

/** @param {WriteGroup} g */
function writeGroup(g) {
  const { runId } = g;
  const c = g.counts;
  // the run's row first: for a fenced group it is the check that the lease is still ours, made in
  // the group's savepoint, so a refused group leaves nothing behind
  if (g.epoch === undefined) updateCounts.run(c[0], c[1], c[2], c[3], c[4], g.nodeCounts, g.checkpoint, runId);
  else if (
    updateCountsFenced.run(c[0], c[1], c[2], c[3], c[4], g.nodeCounts, g.checkpoint, runId, g.epoch).changes === 0
  )
    throw new LeaseLost(`run ${runId}: its lease has passed to another process`);
  writeOutcomes(g, g.errors.map(errorId));
  for (const c of g.collected) insertCollected.run(runId, c.nodeId, c.seq, c.key, c.data);
  for (const b of g.batches)
    insertBatch.run(runId, b.batchNo, b.size, b.succeeded, b.filtered, b.failed, b.startedAt, b.finishedAt);
}

// Groups are written as they arrive, each under a savepoint of its own (a group lands whole or not
// at all), inside one transaction that stays open for as long as groups keep arriving; it commits
// when the thread has nothing more to read. Writing each group at once, rather than reading them
// all first, keeps only one group in memory at a time. The transaction takes the write lock when it
// begins (BEGIN IMMEDIATE), waiting for other connections as long as the busy timeout allows: a
// deferred one that read first could not write once another connection had committed meanwhile.
//
// A run's groups must land in order: a checkpoint stored without the rows of an earlier group would
// let a resumed run skip them. So once a group of a run fails, every later group of that run is
// refused, until the run store says the run is over ('forget').

/** Runs whose rows could not all be stored: run id → why. @type {Map<number, string>} */
const failedRuns = new Map();
/** Of those, the runs refused for a lost lease. @type {Set<number>} */
const lostRuns = new Set();
/** Groups written in the open transaction. @type {{ id: number, runId: number }[]} */
let inTransaction = [];
/** Groups refused or rolled back since the last report. @type {{ id: number, error: string, leaseLost: boolean }[]} */
let failures = [];

/** @param {unknown} err */
const messageOf = (err) => (err instanceof Error ? err.message : String(err));

/**
 * @param {Pick<WriteGroup, 'id' | 'runId'>} group
 * @param {string} error
 */
function fail(group, error, leaseLost = false) {
  const why = failedRuns.get(group.runId) ?? error;
  failedRuns.set(group.runId, why);
  if (leaseLost) lostRuns.add(group.runId);
  failures.push({ id: group.id, error: why, leaseLost: lostRuns.has(group.runId) });
  errorIds.clear(); // ids made in a rolled-back savepoint may be reused for other messages
}

function report() {
  const written = inTransaction.map((g) => g.id);
  inTransaction = [];
  if (written.length) send({ written });
  for (const f of failures) send({ written: [f.id], error: f.error, ...(f.leaseLost ? { leaseLost: true } : {}) });
  failures = [];
}

function commit() {
  if (!db.inTransaction) return;
  try {
    db.exec('COMMIT');
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    const error = messageOf(err);
    for (const g of inTransaction) fail(g, error);
    inTransaction = [];
  }
  report();
}

/** @param {WriteGroup} group */
function write(group) {
  const refused = failedRuns.get(group.runId);
  if (refused !== undefined) return fail(group, refused);
  if (!db.inTransaction) {
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      return fail(group, messageOf(err));
    }
    setImmediate(commit);
  }
  db.exec('SAVEPOINT grp');
  try {
    writeGroup(group);
    db.exec('RELEASE grp');
    inTransaction.push({ id: group.id, runId: group.runId });
  } catch (err) {
    db.exec('ROLLBACK TO grp');
    db.exec('RELEASE grp');
    fail(group, messageOf(err), err instanceof LeaseLost);
  }
}

port.on('message', (/** @type {ToWriter} */ message) => {
  if (message === 'close') {
    commit();
    db.close();
    port.close();
    return;
  }
  if ('forget' in message) {
    failedRuns.delete(message.forget);
    lostRuns.delete(message.forget);
    return;
  }
  write(message);
  if (!db.inTransaction) report(); // refused without a transaction to wait for
});
