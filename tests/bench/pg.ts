/**
 * The PostgreSQL measurements of the benchmark, each in a fresh database of its own on the server
 * `SLUICE_TEST_DATABASE_URL` names (by default the local one), dropped afterwards.
 *
 * - `pgCeiling`: the storage ceiling on PostgreSQL: n outcome rows of the engine flow's shape in the
 *   layout before the packed store (one row per outcome; primary key (run, seq), an index by key and
 *   one by status), 1,000 to a transaction, each thousand one multi-row insert; the outputs' JSON made
 *   before the clock starts, so it times the insert alone.
 * - `pgEngine`: the engine flow over n records with every outcome stored in PostgreSQL, through the
 *   storage the server opens with `SLUICE_DATABASE_URL` (its run store: grouped, packed, one
 *   transaction a group).
 */
import { randomBytes } from 'node:crypto';
import { startRun } from '@sluice/engine';
import { validFlow } from '@sluice/engine/testing';
import { createConnectors, nodeRuntime, systemClock } from '@sluice/server';
import { syntheticRecord } from '../../engine/src/nodes/generate.js';
import { createPool, openPostgres, type PgDb } from '../../server/src/storage/postgres/db.js';
import { openPostgresStorage } from '../../server/src/storage/postgres/index.js';
import { engineFlow } from './load.js';
import { rssMb } from './timed-run.js';

const SERVER = process.env.SLUICE_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh, empty database on the benchmark's server: its URL, and `drop` to remove it. */
export async function freshPgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `sluice_bench_${randomBytes(6).toString('hex')}`;
  const admin = createPool(SERVER, 1);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** A fresh, migrated database opened with its pool. */
export async function freshPgDb(): Promise<{ db: PgDb; drop: () => Promise<void> }> {
  const database = await freshPgDatabase();
  const db = await openPostgres(database.url, { poolSize: 10 });
  return {
    db,
    drop: async () => {
      await db.$client.end();
      await database.drop();
    },
  };
}

export async function pgCeiling(n: number): Promise<{ rps: number; seconds: number; bytes: number }> {
  const { db, drop } = await freshPgDb();
  try {
    const c = db.$client;
    await c.query(`CREATE TABLE naive_outcomes (run_id bigint NOT NULL, seq bigint NOT NULL, key text NOT NULL,
        status integer NOT NULL, node_id text NOT NULL, batch_no integer NOT NULL, attempts integer NOT NULL,
        error_id bigint, payload text, output text, output_node text, at bigint NOT NULL, PRIMARY KEY (run_id, seq));
      CREATE INDEX naive_outcomes_key ON naive_outcomes (key, run_id);
      CREATE INDEX naive_outcomes_status ON naive_outcomes (run_id, status, seq);`);
    const { rows: made } = await c.query<{ id: string }>(
      `INSERT INTO runs (flow_name, status, trigger, created_at) VALUES ('ceiling', 'running', 'cli', 0) RETURNING id`,
    );
    const runId = Number(made[0]?.id);
    const client = await c.connect();
    let seconds = 0;
    try {
      for (let from = 0; from < n; from += 1000) {
        const to = Math.min(n, from + 1000);
        const seq: number[] = [];
        const key: string[] = [];
        const status: number[] = [];
        const node: string[] = [];
        const batch: number[] = [];
        const output: (string | null)[] = [];
        const outputNode: (string | null)[] = [];
        const at: number[] = [];
        const now = Date.now();
        for (let i = from; i < to; i++) {
          const filtered = i % 10 === 0;
          const r = syntheticRecord(i);
          seq.push(i);
          key.push(`rec-${i}`);
          status.push(filtered ? 1 : 0);
          node.push(filtered ? 'keep' : 'out');
          batch.push(Math.floor(i / 100) + 1);
          output.push(filtered ? null : JSON.stringify({ ...r, total: (r.amount as number) * 2 }));
          outputNode.push(filtered ? null : 'out');
          at.push(now);
        }
        const t0 = performance.now();
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO naive_outcomes (run_id, seq, key, status, node_id, batch_no, attempts, error_id, payload, output,
             output_node, at)
           SELECT $1, seq, key, status, node_id, batch_no, 0, NULL, NULL, output, output_node, at
             FROM unnest($2::bigint[], $3::text[], $4::int[], $5::text[], $6::int[], $7::text[], $8::text[], $9::bigint[])
               AS t(seq, key, status, node_id, batch_no, output, output_node, at)`,
          [runId, seq, key, status, node, batch, output, outputNode, at],
        );
        await client.query('COMMIT');
        seconds += (performance.now() - t0) / 1000;
      }
    } finally {
      client.release();
    }
    const { rows } = await c.query<{ bytes: string }>(`SELECT pg_total_relation_size('naive_outcomes') AS bytes`);
    return { rps: n / seconds, seconds, bytes: Number(rows[0]?.bytes) };
  } finally {
    await drop();
  }
}

export async function pgEngine(n: number): Promise<Record<string, number>> {
  const database = await freshPgDatabase();
  const storage = await openPostgresStorage(database.url);
  try {
    const runId = await storage.runs.create({ flowId: null, flowVersionId: null, flowName: 'bench', trigger: 'cli' });
    await storage.runStore.ready();
    const t0 = performance.now();
    const result = await startRun({
      runId,
      flow: validFlow(engineFlow(n)),
      clock: systemClock,
      runtime: nodeRuntime,
      store: storage.runStore,
      connectors: createConnectors([]),
    }).done;
    const seconds = (performance.now() - t0) / 1000;
    if (result.counts.read !== n || result.counts.filtered !== n / 10)
      throw new Error(`unexpected counts ${JSON.stringify(result.counts)}`);
    const stored = (await storage.runs.get(runId)).counts;
    const outcomes = stored.succeeded + stored.filtered + stored.failed + stored.cancelled;
    if (stored.read !== n || outcomes !== n)
      throw new Error(`stored counts ${JSON.stringify(stored)} for ${n} records`);
    const { rows } = await (storage.db.$client.query<{ bytes: string }>(
      `SELECT sum(pg_total_relation_size(t)) AS bytes FROM unnest(ARRAY['outcome_packs', 'outcome_outputs',
         'outcome_keys', 'outcome_details']::regclass[]) AS t`,
    ) as Promise<{ rows: { bytes: string }[] }>);
    return { rps: n / seconds, seconds, rssMb: rssMb(), dbBytesPerOutcome: Number(rows[0]?.bytes) / n };
  } finally {
    await storage.close();
    await database.drop();
  }
}
