/**
 * `node --import tsx tests/bench/pg-retention.ts [--runs 200] [--per-run 50000] [--only batched|partitioned|partitioned-mixed]`:
 * how PostgreSQL retention should remove old runs' record outcomes, two layouts measured on a database
 * holding 10 million outcomes in packs (200 runs of 50,000 over four flows: ~39,000 pack rows and 10M
 * key rows, 1% of the outcomes failed with a detail row):
 *
 * - batched: the server's `PgRetention` (batched deletes by run and key, bucket or position range,
 *   each batch its own transaction);
 * - partitioned: `outcome_keys` and `outcome_packs` partitioned by run id range (10 runs a
 *   partition), a prune detaching and dropping the partitions of old runs (half with DETACH, half with
 *   DETACH CONCURRENTLY);
 * - partitioned-mixed: the same partitions, the runs spread unevenly (one flow every 20th run, three
 *   others the rest) and pruned by the server's policy: the partitions whose runs all go are dropped,
 *   the other runs' rows deleted by batches.
 *
 * Each prunes about the older half of every flow's runs while a writer inserts a new run's rows (a
 * pack row and its 256 key rows a transaction) in a loop, and reports the prune's time, the writer's
 * longest wait for one statement during it and its 99th percentile (and the same before the prune),
 * the tables' size afterwards, before and after a VACUUM, and after 50 new runs are written. It uses
 * the server `SLUICE_TEST_DATABASE_URL` names (default postgres://postgres@127.0.0.1:5432/postgres),
 * each variant in a database of its own, dropped at the end.
 *
 * The seed is real: the first run's outcomes are stored by the PostgreSQL run store (packs, key
 * rows, detail rows), and the other runs are copies of it made in SQL (the same records, as a
 * nightly sync's), so retention finds each run's key rows from its packs as it does in use. After the
 * prune the script checks that no key row of a pruned run is left.
 *
 * Measured (PostgreSQL 15, two cores, a shared machine; `outcome_keys` keyed key first; sizes with
 * indexes and TOAST):
 *
 * | | prune | writer p99 / longest (before the prune) | size before → after → after VACUUM |
 * | --- | --- | --- | --- |
 * | batched deletes | 100 runs, 52.6 s | 9.2 / 92.9 ms (7.5 / 15.0 ms) | 1,223 → 1,354 → 1,310 MB (VACUUM 5.6 s) |
 * | partitions dropped | 100 runs, 0.4 s | 14.3 / 14.3 ms (2.4 / 7.2 ms) | 1,225 → 629 → 626 MB |
 * | skewed flows, partitioned | 115 runs, 24.7 s: 60 in 6 dropped partitions, 55 by batched deletes | 11.4 / 36.8 ms (1.6 / 2.2 ms) | 1,225 → 909 → 887 MB |
 *
 * After the VACUUM, 50 new runs (2.5M outcomes): batched, 1,310 → 1,330 MB (the freed space reused);
 * partitioned, 626 → 979 MB (new partitions). Why the batched deletes were kept:
 * server/src/storage/postgres/retention.ts.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createPool, openPostgres, pgDb } from '../../server/src/storage/postgres/db.js';
import { openPostgresStorage } from '../../server/src/storage/postgres/index.js';
import { PgRetention, pruneRun } from '../../server/src/storage/postgres/retention.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '200' },
    'per-run': { type: 'string', default: '50000' },
    /** batched, partitioned or partitioned-mixed */
    only: { type: 'string' },
  },
});
const RUNS = Number(args.runs);
const PER_RUN = Number(args['per-run']);
const FLOWS = 4;
const PARTITION_RUNS = 10;
const BUCKET = 256;
const BUCKETS = Math.ceil(PER_RUN / BUCKET);
/** The writer's run: past every seeded one. */
const WRITER_RUN = RUNS + 1_000;

const serverUrl = process.env.SLUICE_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const withDatabase = (name: string) => {
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
};

const say = (line: string) => console.log(line);
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function withDatabaseNamed<T>(body: (url: string) => Promise<T>): Promise<T> {
  const name = `sluice_bench_${randomBytes(4).toString('hex')}`;
  const admin = createPool(serverUrl, 1);
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    return await body(withDatabase(name));
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/** Partitioned copies of the two big per-record tables: what variant (b) prunes by dropping partitions. */
const PARTITIONED = `
  DROP TABLE outcome_keys;
  DROP TABLE outcome_packs;
  CREATE TABLE outcome_keys (run_id bigint NOT NULL, key bytea NOT NULL, seq bigint NOT NULL,
    PRIMARY KEY (key, run_id, seq)) PARTITION BY RANGE (run_id);
  -- a partitioned table's unique keys must hold the partition key: the surrogate id cannot be the primary key
  CREATE TABLE outcome_packs (id bigint GENERATED BY DEFAULT AS IDENTITY, run_id bigint NOT NULL,
    bucket integer NOT NULL, part integer NOT NULL, count integer NOT NULL, statuses integer NOT NULL,
    nodes jsonb NOT NULL, base_at bigint NOT NULL, base_batch integer NOT NULL, meta bytea NOT NULL,
    keys bytea NOT NULL) PARTITION BY RANGE (run_id);
  CREATE UNIQUE INDEX outcome_packs_at ON outcome_packs (run_id, bucket, part);`;

/**
 * The first run's outcomes, stored by the PostgreSQL run store as the engine stores them (a commit a
 * batch of 1,000): real packs, key rows, and a detail row for each failed record (1%, each with its
 * payload and error).
 */
async function storeFirstRun(url: string): Promise<void> {
  const storage = await openPostgresStorage(url);
  try {
    const error = { code: 'http_422', message: 'HTTP 422: assetKey is required', httpStatus: 422 };
    const counts = { read: 0, succeeded: 0, filtered: 0, failed: 0, cancelled: 0 };
    for (let from = 0; from < PER_RUN; from += 1000) {
      const outcomes = [];
      for (let seq = from; seq < Math.min(PER_RUN, from + 1000); seq++) {
        const failed = seq % 100 === 0;
        outcomes.push({
          seq,
          key: `rec-${(seq * 7919) % 1_000_003}`,
          status: failed ? ('failed' as const) : ('succeeded' as const),
          nodeId: failed ? 'write' : 'map',
          batchNo: Math.floor(seq / 1000) + 1,
          attempts: failed ? 3 : 1,
          ...(failed ? { error, payload: { id: seq, externalKey: `rec-${seq}` } } : {}),
          at: 60_000 + seq,
        });
        counts.read++;
        if (failed) counts.failed++;
        else counts.succeeded++;
      }
      await storage.runStore.commit('1', {
        outcomes,
        collected: [],
        counts: { ...counts },
        nodeCounts: {},
        checkpoint: {
          version: 1,
          lowWater: counts.read,
          nextBatch: from / 1000 + 2,
          sourcesDone: [],
          nodeState: {},
          breakers: {},
        },
      });
    }
    await storage.runStore.flush();
  } finally {
    await storage.close();
  }
}

/**
 * Seeds flows and runs, and each run's outcomes: the first run's stored through the run store
 * (storeFirstRun), the others copies of it (the same records, a nightly sync's), made in SQL; the key
 * index is built after the copies (as a restore would).
 */
async function seed(
  url: string,
  pool: ReturnType<typeof createPool>,
  partitioned: boolean,
  flowOf: string,
): Promise<void> {
  const t0 = performance.now();
  const q = (text: string) => pool.query(text);
  if (partitioned) {
    await q(PARTITIONED);
    for (let from = 1; from <= RUNS; from += PARTITION_RUNS)
      for (const table of ['outcome_keys', 'outcome_packs'])
        await q(
          `CREATE TABLE ${table}_${from} PARTITION OF ${table} FOR VALUES FROM (${from}) TO (${from + PARTITION_RUNS})`,
        );
    for (const table of ['outcome_keys', 'outcome_packs'])
      await q(`CREATE TABLE ${table}_new PARTITION OF ${table} FOR VALUES FROM (${RUNS + 1}) TO (MAXVALUE)`);
  }
  await q(`INSERT INTO flows (id, name, latest_version, created_at, updated_at)
             SELECT 'flow-' || f, 'flow ' || f, 1, 0, 0 FROM generate_series(0, ${FLOWS - 1}) f`);
  // runs a minute apart across the flows, all finished long ago
  await q(`INSERT INTO runs (id, flow_id, flow_name, status, trigger, created_at, started_at, finished_at, read, succeeded, failed)
             SELECT r, 'flow-' || (${flowOf}), 'flow', 'succeeded', 'schedule', 60000 * r, 60000 * r, 60000 * r + 1,
               ${PER_RUN}, ${PER_RUN - PER_RUN / 100}, ${PER_RUN / 100}
             FROM generate_series(1, ${RUNS}) r`);
  await q(`SELECT setval(pg_get_serial_sequence('runs', 'id'), ${RUNS})`);
  await storeFirstRun(url);
  const stored = performance.now();
  // the key rows' primary key dropped while they are copied, and built once after
  const constraint = await pool.query(
    `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'outcome_keys'::regclass AND contype = 'p'`,
  );
  const { conname, def } = constraint.rows[0] as { conname: string; def: string };
  await q(`ALTER TABLE outcome_keys DROP CONSTRAINT ${conname}`);
  const copy = async (table: string, columns: string) =>
    q(`INSERT INTO ${table} (run_id, ${columns}) SELECT r, ${columns}
         FROM ${table} t, generate_series(2, ${RUNS}) r WHERE t.run_id = 1 ORDER BY r`);
  await copy('outcome_packs', 'bucket, part, count, statuses, nodes, base_at, base_batch, meta, keys');
  await copy('outcome_details', 'seq, status, key, node_id, batch_no, attempts, error_id, payload, at');
  await copy('outcome_keys', 'key, seq');
  await q(`SET maintenance_work_mem = '512MB'; ALTER TABLE outcome_keys ADD CONSTRAINT ${conname} ${def}`);
  await q('VACUUM ANALYZE');
  say(
    `  seeded ${RUNS} runs × ${PER_RUN} outcomes in ${secs(performance.now() - t0)} (the first run through the run store in ${secs(stored - t0)})`,
  );
}

const BIG = ['outcome_keys', 'outcome_packs', 'outcome_outputs', 'outcome_details'];

/** Each table's size with its indexes and TOAST, partitions summed. */
async function sizes(pool: ReturnType<typeof createPool>): Promise<Record<string, { table: number; indexes: number }>> {
  const out: Record<string, { table: number; indexes: number }> = {};
  for (const table of BIG) {
    const r = await pool.query(
      `SELECT COALESCE(sum(pg_table_size(c.oid)), 0)::bigint AS t, COALESCE(sum(pg_indexes_size(c.oid)), 0)::bigint AS i
         FROM pg_class c
         WHERE c.oid = $1::regclass OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = $1::regclass)`,
      [table],
    );
    out[table] = { table: Number(r.rows[0].t), indexes: Number(r.rows[0].i) };
  }
  return out;
}

/** Sizes as "table + indexes" per table (MB), and the total. */
const sizeLine = (s: Record<string, { table: number; indexes: number }>) => {
  const total = Object.values(s).reduce((a, b) => a + b.table + b.indexes, 0);
  return `${BIG.map((t) => `${t} ${mb(s[t]?.table ?? 0)} + ${mb(s[t]?.indexes ?? 0)}`).join(', ')}; total ${mb(total)}`;
};

/**
 * A writer storing a new run's outcomes while the prune runs: a transaction per pack row, with its 256
 * key rows; each statement's time (from sending it to its answer) is kept with when it was sent.
 */
function startWriter(url: string) {
  const pool = createPool(url, 1);
  const waits: { at: number; ms: number }[] = [];
  let stop = false;
  const done = (async () => {
    const c = await pool.connect();
    const timed = async (text: string, values?: unknown[]) => {
      const at = performance.now();
      await c.query(text, values);
      waits.push({ at, ms: performance.now() - at });
    };
    try {
      for (let bucket = 0; !stop; bucket++) {
        await timed('BEGIN');
        await timed(
          `INSERT INTO outcome_packs (run_id, bucket, part, count, statuses, nodes, base_at, base_batch, meta, keys)
             VALUES ($1, $2, 0, 256, 1, '["map"]', 0, 0, $3, $4)`,
          [WRITER_RUN, bucket, randomBytes(3000), randomBytes(2000)],
        );
        await timed(
          `INSERT INTO outcome_keys (run_id, key, seq)
             SELECT $1, convert_to('rec-' || s, 'UTF8'), s FROM generate_series($2::bigint, $2::bigint + 255) s`,
          [WRITER_RUN, bucket * 256],
        );
        await timed('COMMIT');
        // a group every 20 ms: a steady run's pace, not a flood that would itself be most of the writes
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      c.release();
      await pool.end();
    }
  })();
  return {
    /** Stops it; every statement's wait, and the pack rows it wrote. */
    async stop() {
      stop = true;
      await done;
      return { waits, packs: waits.length / 4 };
    },
  };
}

interface Figures {
  variant: string;
  pruneMs: number;
  runs: number;
  how: string;
  writer: { statements: number; max: number; p99: number; packs: number };
  baseline: { statements: number; max: number; p99: number };
  phases: { name: string; statements: number; max: number; p99: number }[];
  after: Record<string, { table: number; indexes: number }>;
  vacuumMs: number;
  afterVacuum: Record<string, { table: number; indexes: number }>;
  refillMs: number;
  afterRefill: Record<string, { table: number; indexes: number }>;
}

/** New runs, a quarter of the seeded number, with their pack and key rows (index maintained as a writer's are). */
async function refill(pool: ReturnType<typeof createPool>): Promise<void> {
  const first = RUNS + 2_000;
  const last = first + RUNS / 4 - 1;
  const partitioned = await pool.query(`SELECT 1 FROM pg_partitioned_table WHERE partrelid = 'outcome_keys'::regclass`);
  if (partitioned.rowCount)
    for (const table of ['outcome_keys', 'outcome_packs'])
      await pool
        .query(`ALTER TABLE ${table} DETACH PARTITION ${table}_new`)
        .then(() =>
          pool.query(`ALTER TABLE ${table} ATTACH PARTITION ${table}_new FOR VALUES FROM (${RUNS + 1}) TO (${first})`),
        );
  for (let from = first; from <= last; from += PARTITION_RUNS) {
    const to = Math.min(last, from + PARTITION_RUNS - 1);
    if (partitioned.rowCount)
      for (const table of ['outcome_keys', 'outcome_packs'])
        await pool.query(
          `CREATE TABLE ${table}_${from} PARTITION OF ${table} FOR VALUES FROM (${from}) TO (${from + PARTITION_RUNS})`,
        );
    await pool.query(`INSERT INTO outcome_packs (run_id, bucket, part, count, statuses, nodes, base_at, base_batch, meta, keys)
             SELECT r, b, 0, LEAST(${BUCKET}, ${PER_RUN} - b * ${BUCKET}), 5, '["read", "map", "write"]', 60000 * r, 0,
               (SELECT string_agg(sha256(int4send(r * 100000 + b * 200 + i)), ''::bytea) FROM generate_series(1, 94) i),
               (SELECT string_agg(sha256(int4send(-(r * 100000 + b * 200 + i))), ''::bytea) FROM generate_series(1, 63) i)
             FROM generate_series(${from}, ${to}) r, generate_series(0, ${BUCKETS - 1}) b`);
    await pool.query(`INSERT INTO outcome_keys (run_id, key, seq)
             SELECT r, convert_to('rec-' || (s * 7919 % 1000003), 'UTF8'), s
             FROM generate_series(${from}, ${to}) r, generate_series(0, ${PER_RUN - 1}) s`);
  }
}

/** How the runs are spread over the flows: in turn, or one flow running rarely (every 20th run) and three often. */
const EVEN = `r % ${FLOWS}`;
const SKEWED = `CASE WHEN r % 20 = 0 THEN 0 ELSE 1 + r % ${FLOWS - 1} END`;

type Variant = 'batched' | 'partitioned' | 'partitioned-mixed';

/** The runs SQLite's and PgRetention's policy selects (no test runs here): older than the cutoff, past each flow's newest. */
async function victims(pool: ReturnType<typeof createPool>, runsPerFlow: number): Promise<number[]> {
  const r = await pool.query(
    `SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY COALESCE(flow_id, flow_name) ORDER BY id DESC) AS rank
       FROM runs WHERE trigger <> 'test') ranked WHERE rank > $1 ORDER BY id`,
    [runsPerFlow],
  );
  return r.rows.map((row) => Number(row.id));
}

/** Detaches and drops the partitions of the runs from `from` (keys and packs), and deletes their other per-record rows. */
async function dropPartition(pool: ReturnType<typeof createPool>, from: number, concurrently: boolean) {
  for (const table of ['outcome_keys', 'outcome_packs']) {
    await pool.query(`ALTER TABLE ${table} DETACH PARTITION ${table}_${from}${concurrently ? ' CONCURRENTLY' : ''}`);
    await pool.query(`DROP TABLE ${table}_${from}`);
  }
  // the other per-record tables are not partitioned here: their few rows go by a delete
  for (const table of ['outcome_outputs', 'outcome_details'])
    await pool.query(`DELETE FROM ${table} WHERE run_id >= $1 AND run_id < $2`, [from, from + PARTITION_RUNS]);
  await pool.query(`UPDATE runs SET pruned_at = 1 WHERE id >= $1 AND id < $2`, [from, from + PARTITION_RUNS]);
}

async function measure(variant: Variant): Promise<Figures> {
  return withDatabaseNamed(async (url) => {
    const db = await openPostgres(url, { poolSize: 4 });
    const pool = db.$client;
    try {
      await seed(url, pool, variant !== 'batched', variant === 'partitioned-mixed' ? SKEWED : EVEN);
      const before = await sizes(pool);
      say(`  before: ${sizeLine(before)}`);
      const writer = startWriter(url);
      const phases: { name: string; from: number; to: number }[] = [];
      let t0 = 0;
      let runs = 0;
      let how = '';
      let pruneMs = 0;
      let left = 0;
      let all: Awaited<ReturnType<typeof writer.stop>>;
      try {
        await new Promise((r) => setTimeout(r, 3000)); // the writer's pace before the prune, for comparison
        t0 = performance.now();
        if (variant === 'batched') {
          // every flow's older half: its newest RUNS / FLOWS / 2 kept, whatever their age
          const own = createPool(url, 1);
          try {
            const r = await new PgRetention(pgDb(own)).prune({ days: 0, runsPerFlow: RUNS / FLOWS / 2 }, Date.now());
            runs = r.runs;
          } finally {
            await own.end();
          }
        } else if (variant === 'partitioned') {
          // the older half of the runs (every flow's older half, the flows taking turns), a partition at a
          // time: the first half of them with DETACH, the second with DETACH CONCURRENTLY
          const partitions = RUNS / 2 / PARTITION_RUNS;
          for (let p = 0; p < partitions; p++) {
            const concurrently = p >= partitions / 2;
            if (p === 0 || p === partitions / 2)
              phases.push({ name: concurrently ? 'DETACH CONCURRENTLY' : 'DETACH', from: performance.now(), to: 0 });
            await dropPartition(pool, 1 + p * PARTITION_RUNS, concurrently);
            (phases[phases.length - 1] as { to: number }).to = performance.now();
          }
          runs = RUNS / 2;
        } else {
          // the same policy over skewed flows: a partition is dropped only when every run in it is
          // pruned; the runs of the others are pruned row by row, as the batched variant does
          const prunable = await victims(pool, Math.round(RUNS / FLOWS / 2));
          const set = new Set(prunable);
          const whole: number[] = [];
          const rest: number[] = [];
          for (let from = 1; from <= RUNS; from += PARTITION_RUNS) {
            const ids = Array.from({ length: PARTITION_RUNS }, (_, i) => from + i);
            if (ids.every((id) => set.has(id))) whole.push(from);
            else rest.push(...ids.filter((id) => set.has(id)));
          }
          phases.push({ name: 'partitions dropped', from: performance.now(), to: 0 });
          for (const from of whole) await dropPartition(pool, from, true);
          (phases[0] as { to: number }).to = performance.now();
          phases.push({ name: 'runs deleted by batches', from: performance.now(), to: 0 });
          for (const id of rest) await pruneRun(pool, id, Date.now());
          (phases[1] as { to: number }).to = performance.now();
          runs = prunable.length;
          how = ` (${whole.length * PARTITION_RUNS} in ${whole.length} dropped partitions, ${rest.length} by batched deletes in partitions that keep other runs)`;
        }
        pruneMs = performance.now() - t0;
        // every key row of a pruned run is gone (found from its packs' keys: the key index is key first)
        const found = await pool.query(
          'SELECT count(*)::int AS n FROM outcome_keys k JOIN runs r ON r.id = k.run_id WHERE r.pruned_at IS NOT NULL',
        );
        left = found.rows[0].n;
      } finally {
        // stopped whatever happened: a writer left running would outlive its database
        all = await writer.stop();
      }
      if (left > 0) throw new Error(`${left} key rows of pruned runs left after the prune`);
      const window = (from: number, to: number) => {
        const during = all.waits.filter((w) => w.at >= from && w.at <= to).map((w) => w.ms);
        return { statements: during.length, max: Math.max(0, ...during), p99: percentile(during, 99) };
      };
      const baseline = window(0, t0 - 1);
      const phaseWaits = phases.map((p) => ({ name: p.name, ...window(p.from, p.to) }));
      // the writer's rows go too, so the sizes are the seeded runs' alone
      for (const table of ['outcome_keys', 'outcome_packs'])
        await pool.query(`DELETE FROM ${table} WHERE run_id = $1`, [WRITER_RUN]);
      const after = await sizes(pool);
      const v0 = performance.now();
      await pool.query(`VACUUM ${BIG.join(', ')}`);
      const vacuumMs = performance.now() - v0;
      const afterVacuum = await sizes(pool);
      // VACUUM gives little back to the file system; what it frees is reused: a quarter of the runs again
      const r0 = performance.now();
      await refill(pool);
      const refillMs = performance.now() - r0;
      const afterRefill = await sizes(pool);
      return {
        variant,
        pruneMs,
        runs,
        how,
        writer: { ...window(t0, t0 + pruneMs), packs: all.packs },
        baseline,
        phases: phaseWaits,
        after,
        vacuumMs,
        afterVacuum,
        refillMs,
        afterRefill,
      };
    } finally {
      await pool.end();
    }
  });
}

const waitLine = (w: { statements: number; max: number; p99: number }) =>
  `${w.statements} statements, longest ${w.max.toFixed(1)} ms, p99 ${w.p99.toFixed(1)} ms`;

for (const variant of ['batched', 'partitioned', 'partitioned-mixed'] as const) {
  if (args.only && args.only !== variant) continue;
  say(`${variant}:`);
  const f = await measure(variant);
  say(`  pruned ${f.runs} runs (${((f.runs * PER_RUN) / 1e6).toFixed(1)}M outcomes) in ${secs(f.pruneMs)}${f.how}`);
  say(`  writer before the prune: ${waitLine(f.baseline)}`);
  say(`  writer during the prune: ${waitLine(f.writer)}`);
  for (const p of f.phases) say(`    ${p.name}: ${waitLine(p)}`);
  say(
    `  (the writer wrote ${f.writer.packs} pack rows and ${f.writer.packs * 256} key rows in all, deleted before the sizes)`,
  );
  say(`  after: ${sizeLine(f.after)}`);
  say(`  VACUUM ${secs(f.vacuumMs)}, then: ${sizeLine(f.afterVacuum)}`);
  say(`  ${RUNS / 4} new runs written in ${secs(f.refillMs)}, then: ${sizeLine(f.afterRefill)}`);
}
