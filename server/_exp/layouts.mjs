// experiment: insert speed of outcome layouts, fresh and with history

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

const [variant, nArg, histArg, cacheArg] = process.argv.slice(2);
const n = Number(nArg ?? 1e6),
  hist = Number(histArg ?? 0),
  cacheMb = Number(cacheArg ?? 2);
const dir = mkdtempSync('/tmp/exp/db-');
const file = path.join(dir, 'x.sqlite');
const db = new Database(file);
for (const p of ['journal_mode = WAL', 'synchronous = NORMAL']) db.pragma(p);
db.pragma(`cache_size = -${cacheMb * 1024}`);
const rec = (i) => ({
  key: `rec-${i}`,
  index: i,
  group: i % 10,
  amount: (i * 7919) % 10000,
  label: `Record ${i}`,
  total: ((i * 7919) % 10000) * 2,
});
const schemas = {
  naive: `CREATE TABLE o (run_id INT NOT NULL, seq INT NOT NULL, key TEXT NOT NULL, status INT NOT NULL, node_id TEXT NOT NULL, batch_no INT NOT NULL, attempts INT NOT NULL, error_id INT, payload TEXT, output TEXT, output_node TEXT, at INT NOT NULL, PRIMARY KEY (run_id, seq));
    CREATE INDEX o_key ON o (key, run_id); CREATE INDEX o_status ON o (run_id, status, seq);`,
  rowid: `CREATE TABLE o (id INTEGER PRIMARY KEY, run_id INT NOT NULL, key TEXT NOT NULL, status INT NOT NULL, node INT NOT NULL, batch_no INT NOT NULL, attempts INT NOT NULL, error_id INT, payload TEXT, output TEXT, output_node INT, at INT NOT NULL);
    CREATE INDEX o_key ON o (run_id, key); CREATE INDEX o_status ON o (run_id, status) WHERE status <> 0;`,
  rowid_nokey: `CREATE TABLE o (id INTEGER PRIMARY KEY, run_id INT NOT NULL, key TEXT NOT NULL, status INT NOT NULL, node INT NOT NULL, batch_no INT NOT NULL, attempts INT NOT NULL, error_id INT, payload TEXT, output TEXT, output_node INT, at INT NOT NULL);
    CREATE INDEX o_status ON o (run_id, status) WHERE status <> 0;`,
  worowid: `CREATE TABLE o (run_id INT NOT NULL, seq INT NOT NULL, key TEXT NOT NULL, status INT NOT NULL, node INT NOT NULL, batch_no INT NOT NULL, attempts INT NOT NULL, error_id INT, payload TEXT, output TEXT, output_node INT, at INT NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
    CREATE INDEX o_key ON o (run_id, key); CREATE INDEX o_status ON o (run_id, status) WHERE status <> 0;`,
  keyid: `CREATE TABLE k (id INTEGER PRIMARY KEY, flow INT NOT NULL, key TEXT NOT NULL); CREATE UNIQUE INDEX k_key ON k (flow, key);
    CREATE TABLE o (id INTEGER PRIMARY KEY, run_id INT NOT NULL, key_id INT NOT NULL, status INT NOT NULL, node INT NOT NULL, batch_no INT NOT NULL, attempts INT NOT NULL, error_id INT, payload TEXT, output TEXT, output_node INT, at INT NOT NULL);
    CREATE INDEX o_key ON o (run_id, key_id); CREATE INDEX o_status ON o (run_id, status) WHERE status <> 0;`,
};
db.exec(schemas[variant]);
// history: `hist` outcomes of runs 1..100 (keys rec-0..hist/100-1 recurring), built by SQL
const runRows = hist / 100;
if (hist) {
  const t0 = performance.now();
  const idx = db.prepare(`SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL`).all();
  for (const i of idx) db.exec(`DROP INDEX ${i.name}`);
  const seqs = `WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM r WHERE x < 100), s(y) AS (SELECT 0 UNION ALL SELECT y+1 FROM s WHERE y < ${runRows - 1})`;
  if (variant === 'keyid') db.exec(`${seqs} INSERT INTO k (id, flow, key) SELECT y + 1, 1, 'rec-' || y FROM s`);
  const keyExpr = variant === 'keyid' ? 'y + 1' : `'rec-' || y`;
  const out = `'{"key":"rec-' || y || '","index":' || y || ',"group":' || (y % 10) || ',"amount":' || (y * 7919 % 10000) || ',"label":"Record ' || y || '","total":' || (y * 7919 % 10000 * 2) || '}'`;
  const cols =
    variant === 'naive'
      ? `INSERT INTO o SELECT x, y, ${keyExpr}, CASE WHEN y % 10 = 0 THEN 1 ELSE 0 END, CASE WHEN y % 10 = 0 THEN 'keep' ELSE 'out' END, y / 100 + 1, 0, NULL, NULL, CASE WHEN y % 10 = 0 THEN NULL ELSE ${out} END, CASE WHEN y % 10 = 0 THEN NULL ELSE 'out' END, 1700000000000 + y`
      : variant === 'worowid'
        ? `INSERT INTO o SELECT x, y, ${keyExpr}, CASE WHEN y % 10 = 0 THEN 1 ELSE 0 END, CASE WHEN y % 10 = 0 THEN 1 ELSE 2 END, y / 100 + 1, 0, NULL, NULL, CASE WHEN y % 10 = 0 THEN NULL ELSE ${out} END, CASE WHEN y % 10 = 0 THEN NULL ELSE 2 END, y`
        : `INSERT INTO o SELECT x * 4294967296 + y, x, ${keyExpr}, CASE WHEN y % 10 = 0 THEN 1 ELSE 0 END, CASE WHEN y % 10 = 0 THEN 1 ELSE 2 END, y / 100 + 1, 0, NULL, NULL, CASE WHEN y % 10 = 0 THEN NULL ELSE ${out} END, CASE WHEN y % 10 = 0 THEN NULL ELSE 2 END, y`;
  db.exec('BEGIN');
  db.exec(`${seqs} ${cols} FROM r, s ORDER BY x, y`);
  db.exec('COMMIT');
  const t1 = performance.now();
  for (const i of idx) db.exec(i.sql);
  db.pragma('wal_checkpoint(TRUNCATE)');
  console.error(
    `history ${hist}: rows ${((t1 - t0) / 1000).toFixed(1)} s, indexes ${((performance.now() - t1) / 1000).toFixed(1)} s, ${(statSync(file).size / 1e6).toFixed(0)} MB`,
  );
}
const run = 101;
const ins = {
  naive: db.prepare('INSERT OR REPLACE INTO o VALUES (?,?,?,?,?,?,?,?,?,?,?,?)'),
  rowid: db.prepare('INSERT OR REPLACE INTO o VALUES (?,?,?,?,?,?,?,?,?,?,?,?)'),
  rowid_nokey: db.prepare('INSERT OR REPLACE INTO o VALUES (?,?,?,?,?,?,?,?,?,?,?,?)'),
  worowid: db.prepare('INSERT OR REPLACE INTO o VALUES (?,?,?,?,?,?,?,?,?,?,?,?)'),
  keyid: db.prepare('INSERT OR REPLACE INTO o VALUES (?,?,?,?,?,?,?,?,?,?,?,?)'),
}[variant];
const findKey = variant === 'keyid' ? db.prepare('SELECT id FROM k WHERE flow = 1 AND key = ?').pluck() : null;
const addKey = variant === 'keyid' ? db.prepare('INSERT INTO k (flow, key) VALUES (1, ?)') : null;
const G = 2000;
let secs = 0;
const outputs = new Array(G);
for (let from = 0; from < n; from += G * 4) {
  // precompute outputs
  const rows = [];
  for (let i = from; i < Math.min(n, from + G * 4); i++) rows.push(i % 10 === 0 ? null : JSON.stringify(rec(i)));
  const t0 = performance.now();
  db.exec('BEGIN IMMEDIATE');
  for (let g = 0; g < 4; g++) {
    db.exec('SAVEPOINT g');
    for (let i = from + g * G; i < Math.min(n, from + (g + 1) * G); i++) {
      const f = i % 10 === 0,
        output = rows[i - from],
        at = Date.now();
      if (variant === 'naive')
        ins.run(
          run,
          i,
          `rec-${i}`,
          f ? 1 : 0,
          f ? 'keep' : 'out',
          Math.floor(i / 100) + 1,
          0,
          null,
          null,
          output,
          f ? null : 'out',
          at,
        );
      else if (variant === 'worowid')
        ins.run(
          run,
          i,
          `rec-${i}`,
          f ? 1 : 0,
          f ? 1 : 2,
          Math.floor(i / 100) + 1,
          0,
          null,
          null,
          output,
          f ? null : 2,
          at - 1700000000000,
        );
      else if (variant === 'keyid') {
        const key = `rec-${i}`;
        const id = findKey.get(key) ?? addKey.run(key).lastInsertRowid;
        ins.run(
          run * 4294967296 + i,
          run,
          id,
          f ? 1 : 0,
          f ? 1 : 2,
          Math.floor(i / 100) + 1,
          0,
          null,
          null,
          output,
          f ? null : 2,
          at - 1700000000000,
        );
      } else
        ins.run(
          run * 4294967296 + i,
          run,
          `rec-${i}`,
          f ? 1 : 0,
          f ? 1 : 2,
          Math.floor(i / 100) + 1,
          0,
          null,
          null,
          output,
          f ? null : 2,
          at - 1700000000000,
        );
    }
    db.exec('RELEASE g');
  }
  db.exec('COMMIT');
  secs += (performance.now() - t0) / 1000;
}
db.pragma('wal_checkpoint(TRUNCATE)');
const pages = db.pragma('page_count', { simple: true }) - db.pragma('freelist_count', { simple: true });
const outBytes = db.prepare('SELECT SUM(LENGTH(output)) FROM o').pluck().get();
const bytes = pages * 4096;
console.log(
  JSON.stringify({
    variant,
    n,
    hist,
    cacheMb,
    rps: Math.round(n / secs),
    secs: +secs.toFixed(2),
    bytesPerOutcomeNoOutput: +((bytes - outBytes) / (n + hist)).toFixed(1),
  }),
);
db.close();
rmSync(dir, { recursive: true, force: true });
