import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';

rmSync('/tmp/exp/floor2.sqlite', { force: true });
const db = new Database('/tmp/exp/floor2.sqlite');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
const mk = () =>
  db.exec('DROP TABLE IF EXISTS t; CREATE TABLE t (id INTEGER PRIMARY KEY, a, b, c, d, e, f, g, h, i, j, k)');
mk();
const out = JSON.stringify({ key: 'rec-1', index: 1, group: 1, amount: 7919, label: 'Record 1', total: 15838 });
function time(name, fn) {
  mk();
  const t0 = performance.now();
  fn();
  const s = (performance.now() - t0) / 1000;
  console.log(name, Math.round(1e6 / s));
}
for (const R of [10, 50, 100, 500]) {
  const ins = db.prepare(`INSERT INTO t VALUES ${new Array(R).fill('(?,?,?,?,?,?,?,?,?,?,?,?)').join(',')}`);
  time(`multi${R}`, () => {
    db.exec('BEGIN');
    const args = new Array(R * 12);
    for (let i = 0; i < 1e6; i += R) {
      for (let r = 0; r < R; r++) {
        const j = i + r,
          b = r * 12;
        args[b] = j;
        args[b + 1] = j;
        args[b + 2] = 'rec-' + j;
        args[b + 3] = 0;
        args[b + 4] = 2;
        args[b + 5] = 5;
        args[b + 6] = 0;
        args[b + 7] = null;
        args[b + 8] = null;
        args[b + 9] = out;
        args[b + 10] = 2;
        args[b + 11] = 123456;
      }
      ins.run(args);
      if (i % 8000 === 0) {
        db.exec('COMMIT');
        db.exec('BEGIN');
      }
    }
    db.exec('COMMIT');
  });
}
const js = db.prepare(
  `INSERT INTO t SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8, value->>9, value->>10, value->>11 FROM json_each(?)`,
);
time('json_each 2000', () => {
  db.exec('BEGIN');
  for (let i = 0; i < 1e6; i += 2000) {
    const rows = [];
    for (let j = i; j < i + 2000; j++) rows.push([j, j, 'rec-' + j, 0, 2, 5, 0, null, null, out, 2, 123456]);
    js.run(JSON.stringify(rows));
    if (i % 8000 === 0) {
      db.exec('COMMIT');
      db.exec('BEGIN');
    }
  }
  db.exec('COMMIT');
});
console.log(db.prepare('select sqlite_version()').pluck().get());
