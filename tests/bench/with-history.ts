import { rmSync, statSync } from 'node:fs';
import { createApp, FlowRepository, SqliteFlows } from '@sluice/server';
import type Database from 'better-sqlite3';
import { engineFlow } from './load.js';
import { freshDb, openBenchSluice, percentile, rssMb, timedRun } from './timed-run.js';

/** Earlier runs of the flow in the database before the measured one, as a nightly sync would leave. */
const RUNS = 100;
const DAY_MS = 86_400_000;
const TOKEN = 'bench-token-0123456789';
/** Clones of the first run copied per transaction. */
const CLONES_PER_TX = 11;

/**
 * The engine flow over n records, timed like the `engine` child, on a database that already holds
 * `history` outcomes of `RUNS` earlier runs of the same flow (the same keys `rec-0`, `rec-1`… in
 * every run, as nightly syncs of the same records leave them), then the latency of one key's history
 * over those runs through the API.
 *
 * The history is made fast: one run of `history / RUNS` records through the engine and the run store,
 * then copied `RUNS - 1` times by SQL. The copy does not know how outcomes are stored: it takes every
 * table with a `run_id` column. Peak memory is that of the whole process, seed included; the seed's
 * run is ten times smaller than the measured one and its copies run inside SQLite with its default cache.
 */
export async function engineWithHistory(n: number, history: number) {
  const perRun = Math.round(history / RUNS);
  const { db, dir, file } = freshDb();
  const c = db.$client;
  const flow = await new FlowRepository(new SqliteFlows(db)).create(engineFlow(perRun));
  const of = { flowId: flow.id, flowVersionId: Number(flow.versionId) };

  const seedStart = performance.now();
  const first = await timedRun(db, engineFlow(perRun), [], of);
  if (first.result.counts.read !== perRun) throw new Error(`seed run counts ${JSON.stringify(first.result.counts)}`);
  cloneRun(c, Number(first.runId), RUNS - 1);
  const seedSeconds = (performance.now() - seedStart) / 1000;
  process.stderr.write(
    `    history: ${RUNS} runs, ${(perRun * RUNS).toLocaleString('en-US')} outcomes seeded in ${seedSeconds.toFixed(1)} s\n`,
  );

  const { result, seconds, runs, runId } = await timedRun(db, engineFlow(n), [], of);
  if (result.counts.read !== n || result.counts.filtered !== n / 10)
    throw new Error(`unexpected counts ${JSON.stringify(result.counts)}`);
  const peakRss = rssMb();
  const stored = (await runs.get(runId)).counts;
  if (stored.read !== n || stored.succeeded + stored.filtered !== n)
    throw new Error(`stored counts ${JSON.stringify(stored)} for ${n} records`);
  c.pragma('wal_checkpoint(TRUNCATE)');
  const fileBytes = statSync(file).size;
  c.close();

  const latency = await historyLatency(dir, flow.id, perRun);
  rmSync(dir, { recursive: true, force: true });
  return {
    rps: n / seconds,
    seconds,
    rssMb: peakRss,
    seedSeconds,
    historyOutcomes: perRun * RUNS,
    fileMb: fileBytes / 1024 / 1024,
    dbBytesPerOutcome: fileBytes / (perRun * RUNS + n),
    historyP50: latency.p50,
    historyP99: latency.p99,
    historyItems: latency.items,
  };
}

interface Column {
  name: string;
  type: string;
  pk: number;
}

/**
 * Copies run `runId` `copies` times, as runs of the same flow one day apart, the original the oldest
 * (its times moved back so that all of them are in the past): its `runs` row, then the rows of every
 * other table with a `run_id` column, whatever the tables are. A table's own integer key is left for
 * SQLite to assign; the timings of `batches` follow their run's. The copies are written with the
 * tables' secondary indexes dropped and made again afterwards (one sort rather than millions of
 * scattered inserts), in a rollback journal, then the database goes back to write-ahead logging.
 */
function cloneRun(c: Database.Database, runId: number, copies: number) {
  const columnsOf = (table: string) => c.pragma(`table_info("${table}")`) as Column[];
  const tables = (
    c
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
      .pluck()
      .all() as string[]
  )
    .filter((t) => t !== 'runs' && columnsOf(t).some((col) => col.name === 'run_id'))
    .filter((t) => c.prepare(`SELECT 1 FROM "${t}" WHERE run_id = ? LIMIT 1`).get(runId) !== undefined);
  const shift = (k: number) => -(copies + 1 - k) * DAY_MS;

  /** `INSERT … SELECT` of one run's rows of a table, with some columns set (SQL by column name). */
  const copyOf = (table: string, by: string, set: Record<string, string>) => {
    const cols = columnsOf(table);
    // an INTEGER PRIMARY KEY is the row's own id: SQLite assigns the copy's, unless it is set
    const ownKey =
      cols.filter((col) => col.pk > 0).length === 1 && cols.some((col) => col.pk === 1 && /^integer$/i.test(col.type));
    const kept = cols.filter((col) => !(ownKey && col.pk === 1 && set[col.name] === undefined));
    const names = kept.map((col) => `"${col.name}"`).join(', ');
    const values = kept.map((col) => set[col.name] ?? `"${col.name}"`).join(', ');
    const shifted = Object.values(set).some((v) => v.includes('@shift'));
    const stmt = c.prepare(`INSERT INTO "${table}" (${names}) SELECT ${values} FROM "${table}" WHERE "${by}" = @from`);
    return (args: { from: number; id: number; number: number; shift: number }) =>
      stmt.run({
        from: args.from,
        id: args.id,
        ...(set.run_number ? { number: args.number } : {}),
        ...(shifted ? { shift: args.shift } : {}),
      });
  };
  const times = {
    created_at: 'created_at + @shift',
    started_at: 'started_at + @shift',
    finished_at: 'finished_at + @shift',
  };
  const runCopy = copyOf('runs', 'id', { ...times, id: '@id', run_number: '@number' });
  const rowCopies = tables.map((t) => copyOf(t, 'run_id', { run_id: '@id', ...(t === 'batches' ? times : {}) }));
  const maxId = c.prepare('SELECT MAX(id) FROM runs').pluck().get() as number;
  const number = c.prepare('SELECT run_number FROM runs WHERE id = ?').pluck().get(runId) as number;

  const indexes = c
    .prepare(
      `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (${tables.map(() => '?').join(', ')})`,
    )
    .all(...tables) as { name: string; sql: string }[];
  c.pragma('journal_mode = DELETE');
  c.pragma('synchronous = OFF');
  c.transaction(() => {
    for (const index of indexes) c.exec(`DROP INDEX "${index.name}"`);
  })();
  for (let from = 1; from <= copies; from += CLONES_PER_TX) {
    c.transaction(() => {
      for (let k = from; k < Math.min(copies + 1, from + CLONES_PER_TX); k++) {
        const args = { from: runId, id: maxId + k, number: number + k, shift: shift(k) };
        runCopy(args);
        for (const copy of rowCopies) copy(args);
      }
    })();
  }
  c.transaction(() => {
    for (const index of indexes) c.exec(index.sql);
    // the original becomes the oldest of the runs
    c.prepare(
      'UPDATE runs SET created_at = created_at + @shift, started_at = started_at + @shift, finished_at = finished_at + @shift WHERE id = @id',
    ).run({ id: runId, shift: shift(0) });
    c.prepare(
      'UPDATE batches SET started_at = started_at + @shift, finished_at = finished_at + @shift WHERE run_id = @id',
    ).run({ id: runId, shift: shift(0) });
  })();
  c.pragma('journal_mode = WAL');
  c.pragma('synchronous = NORMAL');
}

/** p50 / p99 of one key's history across the flow's runs, asked through the API as the server answers it. */
async function historyLatency(dir: string, flowId: string, keys: number) {
  const parts = await openBenchSluice(dir, TOKEN);
  const app = createApp(parts);
  const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
  let items = Number.POSITIVE_INFINITY;
  const time = async (i: number) => {
    const url = `/api/flows/${flowId}/records/rec-${(i * 7919) % keys}?limit=200`;
    const t0 = performance.now();
    const res = await app.request(url, auth);
    const body = (await res.json()) as { items?: unknown[] };
    const ms = performance.now() - t0;
    if (res.status !== 200 || !body.items) throw new Error(`${url}: ${res.status}`);
    // every earlier run and the measured one hold the key
    if (body.items.length < RUNS) throw new Error(`${url}: ${body.items.length} outcomes in its history`);
    items = Math.min(items, body.items.length);
    return ms;
  };
  for (let i = 0; i < 20; i++) await time(i);
  const ms: number[] = [];
  for (let i = 0; i < 400; i++) ms.push(await time(i));
  await parts.sandbox.close();
  await parts.storage.close();
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), items };
}
