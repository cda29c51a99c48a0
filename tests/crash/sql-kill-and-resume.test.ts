import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chain, flowDocument } from '@sluice/engine/testing';
import { type FlowDetail, isFinalRunStatus, type RecordOutcomeView, type RunDetail } from '@sluice/shared';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFor, mysqlOptions, testMysqlUrl } from '../../server/src/connectors/sql/test-databases.js';
import { api, eventually, type RunningServer, startServer } from '../support/server.js';

/**
 * The SQL proof: 100,000 rows of a PostgreSQL table → batch 500 → map → upsert into MariaDB, with the
 * server killed (SIGKILL) while it runs and started again on the same data. Every row lands once,
 * the 3 rows that violate NOT NULL fail alone with MariaDB's message, and nothing is written twice:
 * the target's row count, and its `writes` column, which the upsert raises each time it changes a
 * row. A second run, incremental, reads only the rows changed since.
 */
const ROWS = Number(process.env.SLUICE_SQL_CRASH_ROWS ?? 100_000);
const NULL_IDS = [777, Math.floor(ROWS / 2) + 1, ROWS - 1];
const CHANGED = 50;

const pgServer = process.env.SLUICE_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const myServer = testMysqlUrl();
const name = `sluice_test_${randomBytes(6).toString('hex')}`;

function at(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

let source: pg.Client;
let target: mysql.Connection;

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: pgServer });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  source = new pg.Client({ connectionString: at(pgServer, name) });
  await source.connect();
  await source.query(
    'CREATE TABLE orders (id integer PRIMARY KEY, customer text, amount numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL)',
  );
  await source.query(
    `INSERT INTO orders SELECT i, CASE WHEN i = ANY($1::int[]) THEN NULL ELSE 'customer ' || (i % 97) END, i / 4.0,
       '2026-01-01T00:00:00Z'::timestamptz + i * interval '1 second' FROM generate_series(1, $2::int) i`,
    [NULL_IDS, ROWS],
  );
  const myAdmin = await mysql.createConnection(mysqlOptions(configFor(myServer, '')));
  await myAdmin.query(`CREATE DATABASE ${name}`);
  await myAdmin.end();
  target = await mysql.createConnection(mysqlOptions(configFor(myServer, name)));
  await target.query(
    'CREATE TABLE orders (id INT PRIMARY KEY, customer VARCHAR(40) NOT NULL, amount DECIMAL(12,2) NOT NULL, label VARCHAR(60), writes INT NOT NULL DEFAULT 0)',
  );
}, 120_000);

afterAll(async () => {
  await source?.end();
  await target?.end();
  const admin = new pg.Client({ connectionString: pgServer });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  const myAdmin = await mysql.createConnection(mysqlOptions(configFor(myServer, '')));
  await myAdmin.query(`DROP DATABASE IF EXISTS ${name}`);
  await myAdmin.end();
});

const flow = flowDocument(
  [
    { id: 'start', type: 'manual' },
    {
      id: 'orders',
      type: 'sql-source',
      params: {
        connection: 'source-db',
        table: 'orders',
        keyColumn: 'id',
        pageSize: 1000,
        incremental: { column: 'updated_at' },
      },
    },
    { id: 'batch', type: 'batch', params: { size: 500 } },
    // 10 ms between batches: a run of at least 2 s, so the kill lands while it goes on on any machine
    { id: 'pace', type: 'delay', params: { ms: 10 } },
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
    {
      id: 'copy',
      type: 'sql-write',
      params: { connection: 'target-db', table: 'orders', keyColumns: ['id'], counterColumn: 'writes' },
    },
  ],
  chain('start', 'orders', 'batch', 'pace', 'shape', 'copy'),
  { name: 'SQL proof: PostgreSQL → MariaDB' },
);

async function finished(server: RunningServer, runId: string): Promise<RunDetail> {
  return eventually(
    async () => {
      const run = await api<RunDetail>(`${server.url}/api/runs/${runId}`);
      return isFinalRunStatus(run.status) ? run : undefined;
    },
    300_000,
    250,
  );
}

async function targetStats() {
  const [rows] = await target.query(
    'SELECT COUNT(*) AS n, CAST(SUM(writes) AS SIGNED) AS writes, MAX(writes) AS most, MIN(writes) AS least FROM orders',
  );
  return (rows as { n: number; writes: number; most: number; least: number }[])[0];
}

describe(`${ROWS.toLocaleString('en-US')} rows PostgreSQL → MariaDB upsert, killed mid-run`, () => {
  it('lands every row once, fails the NOT NULL rows alone, writes nothing twice, then reads only what changed', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'sluice-sql-crash-'));
    let server = await startServer({}, dataDir);
    try {
      const pgUrl = new URL(at(pgServer, name));
      const myUrl = new URL(at(myServer, name));
      for (const [connection, url, user] of [
        ['source-db', `postgres://${pgUrl.host}${pgUrl.pathname}`, decodeURIComponent(pgUrl.username) || 'postgres'],
        ['target-db', `mysql://${myUrl.host}${myUrl.pathname}`, decodeURIComponent(myUrl.username) || 'root'],
      ] as const) {
        const password = connection === 'source-db' ? pgUrl.password : myUrl.password;
        await api(`${server.url}/api/connections`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            name: connection,
            baseUrl: url,
            auth: 'basic',
            username: user,
            ...(password ? { secret: decodeURIComponent(password) } : {}),
          }),
        });
        const checked = await api<{ state: string; message: string }>(
          `${server.url}/api/connections/${connection}/check`,
          { method: 'POST' },
        );
        expect(checked, connection).toMatchObject({ state: 'ok', message: expect.stringContaining('SELECT 1') });
      }
      const created = await api<FlowDetail>(`${server.url}/api/flows`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(flow),
      });
      const { runId } = await api<{ runId: string }>(`${server.url}/api/flows/${created.id}/runs`, { method: 'POST' });

      // kill -9 once a fifth of the rows are settled, while the run goes on; start again on the same data
      const current = server;
      const settledAtKill = await eventually(
        async () => {
          const run = await api<RunDetail>(`${current.url}/api/runs/${runId}`);
          if (run.status !== 'running') throw new Error(`the run ended (${run.status}) before the kill`);
          const settled = run.counts.succeeded + run.counts.failed;
          return settled >= ROWS / 5 ? settled : undefined;
        },
        120_000,
        50,
      );
      await current.crash();
      const beforeResume = await targetStats();
      server = await startServer({}, dataDir);
      const run = await finished(server, runId);

      expect(run.status).toBe('succeeded');
      expect(run.claims, 'the run was taken over by the restarted server').toBe(2);
      expect(run.counts).toMatchObject({ read: ROWS, succeeded: ROWS - 3, failed: 3, cancelled: 0, filtered: 0 });
      const failed = await api<{ items: RecordOutcomeView[] }>(
        `${server.url}/api/runs/${runId}/records?status=failed&limit=10`,
      );
      expect(failed.items.map((r) => r.key)).toEqual(NULL_IDS.map(String));
      for (const record of failed.items) {
        expect(record.nodeId).toBe('copy');
        expect(record.error?.message).toBe("Column 'customer' cannot be null");
      }
      // every good row once, and no write changed a row twice: the resumed run re-wrote the
      // interrupted batch's rows with the same values, which the upsert leaves alone
      expect(await targetStats()).toEqual({ n: ROWS - 3, writes: ROWS - 3, most: 1, least: 1 });
      console.log(
        `SQL crash test: killed at ${settledAtKill} settled rows (${beforeResume?.n} in MariaDB then); ` +
          `${ROWS - 3} rows written once, 3 failed NOT NULL alone`,
      );

      // a second run, incremental: only the rows changed since the first run are read and written
      await source.query(
        `UPDATE orders SET amount = amount + 1, updated_at = updated_at + interval '400 days' WHERE id % 1000 = 0 AND id <= $1`,
        [CHANGED * 1000],
      );
      const second = await api<{ runId: string }>(`${server.url}/api/flows/${created.id}/runs`, { method: 'POST' });
      const again = await finished(server, second.runId);
      expect(again.status).toBe('succeeded');
      expect(again.counts).toMatchObject({ read: CHANGED, succeeded: CHANGED, failed: 0 });
      expect(await targetStats()).toEqual({ n: ROWS - 3, writes: ROWS - 3 + CHANGED, most: 2, least: 1 });
      const [changed] = await target.query('SELECT id, amount, writes FROM orders WHERE id = 2000');
      expect(changed).toEqual([{ id: 2000, amount: '501.00', writes: 2 }]);
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 600_000);
});
