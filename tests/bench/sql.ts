/**
 * PostgreSQL → MariaDB, each side of the comparison in its own child process on fresh databases
 * (a PostgreSQL database with `n` orders, an empty MariaDB table), dropped afterwards:
 *
 * - `sqlEngine`: the flow sql-source (keyset pages of 1,000) → batch 500 → map → sql-write (upsert by
 *   id), run as a user runs it: `sluice run` (the built server, cli.ts) on a data folder holding the
 *   two connections, every outcome stored in SQLite; its rows a second over the run's own time (as
 *   stored), its peak memory the whole process's;
 * - `sqlDriver`: the same reads and writes by a plain script with the same drivers: keyset pages of
 *   1,000 with `pg`, and per 500 rows one transaction with one multi-row upsert with `mysql2`.
 *
 * Each returns rows a second, its run's seconds and its peak RSS; `sql_vs_driver` is their ratio.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chain, flowDocument } from '@sluice/engine/testing';
import { databaseFile, openDatabase, SqliteRunQueries } from '@sluice/server';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { configFor, mysqlOptions, testMysqlUrl } from '../../server/src/connectors/sql/test-databases.js';
import { sluiceRun } from './cli.js';
import { openBenchSluice, rssMb } from './timed-run.js';

const pgServer = process.env.SLUICE_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const myServer = testMysqlUrl();
/** mysql2's options for a database (or none) on the MariaDB server. */
const mysqlAt = (database: string) => mysqlOptions(configFor(myServer, database));

/** A PostgreSQL database with `n` orders and a MariaDB database with an empty copy table; `drop` removes both. */
async function databases(n: number) {
  const name = `sluice_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: pgServer });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const pgUrl = new URL(pgServer);
  pgUrl.pathname = `/${name}`;
  const source = new pg.Client({ connectionString: pgUrl.toString() });
  await source.connect();
  await source.query(
    'CREATE TABLE orders (id integer PRIMARY KEY, customer text NOT NULL, amount numeric(12,2) NOT NULL)',
  );
  await source.query(
    `INSERT INTO orders SELECT i, 'customer ' || (i % 97), i / 4.0 FROM generate_series(1, $1::int) i`,
    [n],
  );
  await source.query('VACUUM ANALYZE orders');
  await source.end();
  const myAdmin = await mysql.createConnection(mysqlAt(''));
  await myAdmin.query(`CREATE DATABASE ${name}`);
  const target = await mysql.createConnection(mysqlAt(name));
  await target.query(
    'CREATE TABLE orders (id INT PRIMARY KEY, customer VARCHAR(40) NOT NULL, amount DECIMAL(12,2) NOT NULL, label VARCHAR(60))',
  );
  const rowsWritten = async () => {
    const [rows] = await target.query('SELECT COUNT(*) AS n FROM orders');
    return Number((rows as { n: number }[])[0]?.n);
  };
  return {
    name,
    pgUrl: pgUrl.toString(),
    rowsWritten,
    drop: async () => {
      await target.end();
      await myAdmin.query(`DROP DATABASE IF EXISTS ${name}`);
      await myAdmin.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

const copyFlow = flowDocument(
  [
    { id: 'start', type: 'manual' },
    {
      id: 'orders',
      type: 'sql-source',
      params: { connection: 'source-db', table: 'orders', keyColumn: 'id', pageSize: 1000 },
    },
    { id: 'batch', type: 'batch', params: { size: 500 } },
    {
      id: 'shape',
      type: 'map',
      params: {
        keep: 'none',
        fields: [
          { name: 'id', expression: 'id' },
          { name: 'customer', expression: 'customer' },
          { name: 'amount', expression: 'amount' },
          { name: 'label', expression: "'order ' & id" },
        ],
      },
    },
    { id: 'copy', type: 'sql-write', params: { connection: 'target-db', table: 'orders', keyColumns: ['id'] } },
  ],
  chain('start', 'orders', 'batch', 'shape', 'copy'),
  { name: 'bench: PostgreSQL → MariaDB' },
);

export async function sqlEngine(n: number): Promise<Record<string, number>> {
  const dbs = await databases(n);
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-bench-sql-'));
  try {
    // the two connections, stored (the password sealed) in the data folder the command then runs on
    const parts = await openBenchSluice(dir, 'bench-sql-token');
    for (const [name, server, fallbackUser] of [
      ['source-db', new URL(dbs.pgUrl), 'postgres'],
      ['target-db', new URL(myServer), 'root'],
    ] as const) {
      await parts.connections.create({
        name,
        baseUrl: `${server.protocol}//${server.host}/${dbs.name}`,
        auth: 'basic',
        username: decodeURIComponent(server.username) || fallbackUser,
        ...(server.password ? { secret: decodeURIComponent(server.password) } : {}),
      });
    }
    await parts.sandbox.close();
    await parts.storage.close();
    const run = await sluiceRun(copyFlow, dir);
    if (run.summary.counts.succeeded !== n) throw new Error(`sql run: ${JSON.stringify(run.summary.counts)}`);
    const written = await dbs.rowsWritten();
    if (written !== n) throw new Error(`sql run: ${written} rows in MariaDB, not ${n}`);
    // the run's own time, from the stored run (the process's start and stop are in wallSeconds)
    const db = openDatabase(databaseFile(dir));
    const stored = await new SqliteRunQueries(db).get(run.summary.runId);
    db.$client.close();
    const seconds = (Date.parse(stored.finishedAt as string) - Date.parse(stored.startedAt as string)) / 1000;
    return { rps: n / seconds, seconds, wallSeconds: run.wallSeconds, rssMb: run.peakRssMb };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await dbs.drop();
  }
}

export async function sqlDriver(n: number): Promise<Record<string, number>> {
  const dbs = await databases(n);
  const source = new pg.Client({ connectionString: dbs.pgUrl });
  await source.connect();
  const target = await mysql.createConnection(mysqlAt(dbs.name));
  try {
    const t0 = performance.now();
    let after = 0;
    for (;;) {
      const page = await source.query<{ id: number; customer: string; amount: string }>(
        'SELECT id, customer, amount FROM orders WHERE id > $1 ORDER BY id LIMIT 1000',
        [after],
      );
      if (page.rows.length === 0) break;
      for (let i = 0; i < page.rows.length; i += 500) {
        const rows = page.rows.slice(i, i + 500);
        await target.beginTransaction();
        await target.query(
          `INSERT INTO orders (id, customer, amount, label) VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')}
             ON DUPLICATE KEY UPDATE customer = VALUES(customer), amount = VALUES(amount), label = VALUES(label)`,
          rows.flatMap((r) => [r.id, r.customer, r.amount, `order ${r.id}`]),
        );
        await target.commit();
      }
      after = page.rows[page.rows.length - 1]?.id as number;
    }
    const seconds = (performance.now() - t0) / 1000;
    const written = await dbs.rowsWritten();
    if (written !== n) throw new Error(`driver copy: ${written} rows in MariaDB, not ${n}`);
    return { rps: n / seconds, seconds, rssMb: rssMb() };
  } finally {
    await source.end();
    await target.end();
    await dbs.drop();
  }
}
