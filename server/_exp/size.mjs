import Database from 'better-sqlite3';

const db = new Database(process.argv[2], { readonly: true });
try {
  console.log(
    db
      .prepare(
        'SELECT name, COUNT(*) pages, SUM(pgsize) bytes, SUM(unused) unused FROM dbstat GROUP BY name ORDER BY bytes DESC',
      )
      .all(),
  );
} catch (e) {
  console.log(e.message);
}
