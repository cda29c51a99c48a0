// The run store's checkpoint thread: copies what the write-ahead log holds into the database file
// (a PASSIVE checkpoint) every CHECKPOINT_MS, on a connection of its own. Checkpoints are where
// SQLite waits for the disk (synchronous=NORMAL syncs only there), so the writer thread, which no
// longer checkpoints itself (wal_autocheckpoint=0), keeps writing meanwhile. Plain JavaScript like
// the writer thread.
/** @import { WriterData } from '../outcomes/writer-protocol.js' */
import { parentPort as parent, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

if (!parent) throw new Error("checkpointer.mjs runs as the run store's worker thread, not on its own");
const port = parent;
const data = /** @type {WriterData} */ (workerData);
const CHECKPOINT_MS = 250;

const db = new Database(data.file);
for (const pragma of data.pragmas) db.pragma(pragma);

function checkpoint() {
  try {
    // PASSIVE: copies the frames no reader still needs, never waits for the writer
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // busy or closing: the next tick tries again, and any connection's own autocheckpoint remains
  }
}

const timer = setInterval(checkpoint, CHECKPOINT_MS);
port.on('message', (message) => {
  if (message !== 'close') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  port.close();
});
port.postMessage({ ready: true });
