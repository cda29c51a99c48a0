/**
 * PostgreSQL → MariaDB, each side of the comparison in its own child process on fresh databases
 * (a PostgreSQL database with `n` orders, an empty MariaDB table), dropped afterwards:
 *
 * - `sqlEngine`: the flow sql-source (keyset pages of 1,000) → batch 500 → map → sql-write (upsert by
 *   id), run by the engine with every outcome stored in SQLite, through the SQL connections the
 *   server uses (a pool per connection, each batch one transaction);
 * - `sqlDriver`: the same reads and writes by a plain script with the same drivers: keyset pages of
 *   1,000 with `pg`, and per 500 rows one transaction with one multi-row upsert with `mysql2`.
 *
 * Each returns rows a second, its run's seconds and its peak RSS; `sql_vs_driver` is their ratio.
 */
import { randomBytes } from 'node:crypto';
import { chain, flowDocument } from '@sluice/engine/testing';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { SqlConnections } from '../../server/src/connectors/sql/index.js';
import { freshDb, rssMb, timedRun } from './timed-run.js';

const pgServer = process.env.SLUICE_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const myServer = process.env.SLUICE_TEST_MYSQL_URL || 'mysql://root@127.0.0.1:3306/';

function mysqlOptions(url: string, database?: string): mysql.ConnectionOptions {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username) || 'root',
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(database ? { database } : {}),
  };
}

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
  const myAdmin = await mysql.createConnection(mysqlOptions(myServer));
  await myAdmin.query(`CREATE DATABASE ${name}`);
  const target = await mysql.createConnection(mysqlOptions(myServer, name));
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
  const { db, dispose } = freshDb();
  const pgUrl = new URL(dbs.pgUrl);
  const myUrl = new URL(myServer);
  const sql = new SqlConnections((name) =>
    name === 'source-db'
      ? {
          kind: 'postgres',
          host: pgUrl.hostname,
          port: Number(pgUrl.port || 5432),
          database: dbs.name,
          user: decodeURIComponent(pgUrl.username) || 'postgres',
          ...(pgUrl.password ? { password: decodeURIComponent(pgUrl.password) } : {}),
          tls: 'off',
        }
      : name === 'target-db'
        ? {
            kind: 'mysql',
            host: myUrl.hostname,
            port: Number(myUrl.port || 3306),
            database: dbs.name,
            user: decodeURIComponent(myUrl.username) || 'root',
            ...(myUrl.password ? { password: decodeURIComponent(myUrl.password) } : {}),
            tls: 'off',
          }
        : undefined,
  );
  try {
    const connections = [
      { name: 'source-db', baseUrl: `postgres://${pgUrl.host}/${dbs.name}`, headers: {} },
      { name: 'target-db', baseUrl: `mysql://${myUrl.host}/${dbs.name}`, headers: {} },
    ];
    const { result, seconds } = await timedRun(db, copyFlow, connections, undefined, { sql });
    if (result.counts.succeeded !== n) throw new Error(`sql run: ${JSON.stringify(result.counts)}`);
    const written = await dbs.rowsWritten();
    if (written !== n) throw new Error(`sql run: ${written} rows in MariaDB, not ${n}`);
    return { rps: n / seconds, seconds, rssMb: rssMb() };
  } finally {
    await sql.close();
    db.$client.close();
    dispose();
    await dbs.drop();
  }
}

export async function sqlDriver(n: number): Promise<Record<string, number>> {
  const dbs = await databases(n);
  const source = new pg.Client({ connectionString: dbs.pgUrl });
  await source.connect();
  const target = await mysql.createConnection(mysqlOptions(myServer, dbs.name));
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
