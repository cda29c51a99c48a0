import Database from 'better-sqlite3';

const db = new Database('/tmp/exp/floor.sqlite');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('DROP TABLE IF EXISTS t; CREATE TABLE t (id INTEGER PRIMARY KEY, a, b, c, d, e, f, g, h, i, j, k)');
const out = JSON.stringify({ key: 'rec-1', index: 1, group: 1, amount: 7919, label: 'Record 1', total: 15838 });
function time(name, fn) {
  const t0 = performance.now();
  fn();
  const s = (performance.now() - t0) / 1000;
  console.log(name, Math.round(1e6 / s));
}
const sel = db.prepare('SELECT ?,?,?,?,?,?,?,?,?,?,?,?');
time('select12', () => {
  for (let i = 0; i < 1e6; i++) sel.get(1, i, 'rec-' + i, 0, 2, 5, 0, null, null, out, 2, 123456);
});
const ins = db.prepare('INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?,?)');
time('insert12', () => {
  db.exec('BEGIN');
  for (let i = 0; i < 1e6; i++) {
    ins.run(i, i, 'rec-' + i, 0, 2, 5, 0, null, null, out, 2, 123456);
    if (i % 8000 === 0) {
      db.exec('COMMIT');
      db.exec('BEGIN');
    }
  }
  db.exec('COMMIT');
});
const ins3 = db.prepare('INSERT INTO t (id, a, b) VALUES (?,?,?)');
db.exec('DELETE FROM t');
time('insert3', () => {
  db.exec('BEGIN');
  for (let i = 0; i < 1e6; i++) {
    ins3.run(i, 'rec-' + i, out);
    if (i % 8000 === 0) {
      db.exec('COMMIT');
      db.exec('BEGIN');
    }
  }
  db.exec('COMMIT');
});
db.exec('DELETE FROM t');
const big = [];
for (let i = 0; i < 100; i++) big.push(out);
const blob = big.join('\n');
const insb = db.prepare('INSERT INTO t (id, a) VALUES (?,?)');
time('packed100 (x100 rows)', () => {
  db.exec('BEGIN');
  for (let i = 0; i < 1e4; i++) {
    insb.run(i, blob);
  }
  db.exec('COMMIT');
});
