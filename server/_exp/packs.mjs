import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';

rmSync('/tmp/exp/packs.sqlite', { force: true });
rmSync('/tmp/exp/packs.sqlite-wal', { force: true });
const db = new Database('/tmp/exp/packs.sqlite');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('cache_size = -' + (process.argv[2] ?? 2) * 1024);
db.exec(`CREATE TABLE packs (id INTEGER PRIMARY KEY, run_id INT NOT NULL, bucket INT NOT NULL, part INT NOT NULL, count INT NOT NULL, meta BLOB NOT NULL, keys TEXT NOT NULL, outputs TEXT);
CREATE UNIQUE INDEX packs_at ON packs (run_id, bucket, part);
CREATE TABLE keys (run_id INT NOT NULL, key TEXT NOT NULL, seq INT NOT NULL, PRIMARY KEY (run_id, key, seq)) WITHOUT ROWID;`);
const out = (i) =>
  JSON.stringify({
    key: 'rec-' + i,
    index: i,
    group: i % 10,
    amount: (i * 7919) % 10000,
    label: `Record ${i}`,
    total: 2,
  });
const R = Number(process.argv[3] ?? 100);
const insKeys = db.prepare(`INSERT OR REPLACE INTO keys VALUES ${new Array(R).fill('(?,?,?)').join(',')}`);
const insPack = db.prepare(
  'INSERT INTO packs (run_id, bucket, part, count, meta, keys, outputs) VALUES (?,?,?,?,?,?,?)',
);
const n = 1e6;
let secs = 0;
const args = new Array(R * 3);
for (let from = 0; from < n; from += 8000) {
  const outs = [];
  for (let i = from; i < from + 8000; i++) outs.push(i % 10 ? out(i) : null);
  const t0 = performance.now();
  db.exec('BEGIN IMMEDIATE');
  for (let b = from; b < from + 8000; b += 256) {
    const cnt = Math.min(256, from + 8000 - b);
    const meta = Buffer.alloc(cnt * 20);
    const keys = [];
    const o = [];
    for (let i = b; i < b + cnt; i++) {
      meta.writeUInt32LE(i - b, (i - b) * 20);
      keys.push('rec-' + i);
      o.push(outs[i - from] ?? '');
    }
    insPack.run(101, b >> 8, b & 255, cnt, meta, keys.join('\u0000'), o.join('\u0000'));
  }
  for (let i = from; i < from + 8000; i += R) {
    for (let r = 0; r < R; r++) {
      args[r * 3] = 101;
      args[r * 3 + 1] = 'rec-' + (i + r);
      args[r * 3 + 2] = i + r;
    }
    insKeys.run(args);
  }
  db.exec('COMMIT');
  secs += (performance.now() - t0) / 1000;
}
db.pragma('wal_checkpoint(TRUNCATE)');
const pages = db.pragma('page_count', { simple: true });
const ob = db.prepare('SELECT SUM(LENGTH(outputs)) FROM packs').pluck().get();
console.log(JSON.stringify({ rps: Math.round(n / secs), bytesNoOutput: ((pages * 4096 - ob) / n).toFixed(1) }));
