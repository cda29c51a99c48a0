// The run store's writer thread: it owns a connection of its own to the database file and writes
// the groups of commits the run store sends (`WriteGroup` in write-group.ts), so storing the
// outcomes of one batch overlaps with the engine processing the next.
// Plain JavaScript: a worker thread is started from a file, without the TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const db = new Database(workerData.file);
// the same settings as every other connection (CONNECTION_PRAGMAS in db/open.ts)
for (const pragma of workerData.pragmas) db.pragma(pragma);

const insertOutcome = db.prepare(
  `INSERT OR REPLACE INTO record_outcomes (run_id, seq, key, status, node_id, batch_no, attempts, error_id, payload, output, output_node, at)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
);
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
const findError = db.prepare('SELECT id FROM error_messages WHERE message = ? AND code IS ? AND http_status IS ?');
const insertError = db.prepare('INSERT INTO error_messages (message, code, http_status) VALUES (?, ?, ?)');
parentPort.postMessage({ ready: true });

/** Fields per outcome in a group's `rows`. */
const FIELDS = 11;
const errorIds = new Map();

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

function writeGroup(g) {
  const { runId, rows, names } = g;
  const errors = g.errors.map(errorId);
  const text = Buffer.from(g.text);
  let at = 0;
  for (let i = 0, r = 0; i < g.count; i++, r += FIELDS) {
    const outputNode = rows[r + 6];
    const error = rows[r + 7];
    const keyEnd = at + rows[r + 9];
    const key = text.toString('utf8', at, keyEnd);
    at = keyEnd;
    let payload = null;
    if (rows[r + 8] >= 0) {
      const payloadEnd = at + rows[r + 8];
      payload = text.toString('utf8', at, payloadEnd);
      at = payloadEnd;
    }
    let output = null;
    if (rows[r + 10] >= 0) {
      const outputEnd = at + rows[r + 10];
      output = text.toString('utf8', at, outputEnd);
      at = outputEnd;
    }
    insertOutcome.run(
      runId,
      rows[r],
      key,
      rows[r + 1],
      names[rows[r + 2]],
      rows[r + 3],
      rows[r + 4],
      error < 0 ? null : errors[error],
      payload,
      output,
      outputNode < 0 ? null : names[outputNode],
      rows[r + 5],
    );
  }
  for (const c of g.collected) insertCollected.run(runId, c.nodeId, c.seq, c.key, c.data);
  for (const b of g.batches)
    insertBatch.run(runId, b.batchNo, b.size, b.succeeded, b.filtered, b.failed, b.startedAt, b.finishedAt);
  const c = g.counts;
  updateCounts.run(c[0], c[1], c[2], c[3], c[4], g.nodeCounts, g.checkpoint, runId);
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

/** Runs whose rows could not all be stored: run id → why. */
const failedRuns = new Map();
/** Groups written in the open transaction: { id, runId }. */
let inTransaction = [];
/** Groups refused or rolled back since the last report: { id, error }. */
let failures = [];

const messageOf = (err) => (err instanceof Error ? err.message : String(err));

function fail(group, error) {
  if (!failedRuns.has(group.runId)) failedRuns.set(group.runId, error);
  failures.push({ id: group.id, error: failedRuns.get(group.runId) });
  errorIds.clear(); // ids made in a rolled-back savepoint may be reused for other messages
}

function report() {
  const written = inTransaction.map((g) => g.id);
  inTransaction = [];
  if (written.length) parentPort.postMessage({ written });
  for (const f of failures) parentPort.postMessage({ written: [f.id], error: f.error });
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

function write(group) {
  if (failedRuns.has(group.runId)) return fail(group, failedRuns.get(group.runId));
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
    fail(group, messageOf(err));
  }
}

parentPort.on('message', (message) => {
  if (message === 'close') {
    commit();
    db.close();
    parentPort.close();
    return;
  }
  if (message.forget !== undefined) {
    failedRuns.delete(message.forget);
    return;
  }
  write(message);
  if (!db.inTransaction) report(); // refused without a transaction to wait for
});
