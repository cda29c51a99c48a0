import { describe, expect, it } from 'vitest';
import { PgRetention } from './retention.js';
import { PgRunsCore } from './runs-core.js';
import { useTestDatabase } from './test-database.js';
import { type SeedRun, seedFlow, seedOutcomes, seedRun } from './test-seed.js';

const t = useTestDatabase();

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);
const PER_RECORD = [
  'outcome_packs',
  'outcome_outputs',
  'outcome_keys',
  'outcome_details',
  'collected_records',
  'run_inputs',
  'retry_selections',
];

/** A finished run with `n` outcomes (every third failed, with a detail row), inputs, a selection and collected rows. */
async function runWith(run: SeedRun, n: number): Promise<number> {
  const id = await seedRun(t.db, { status: 'succeeded', read: n, failed: Math.ceil(n / 3), ...run });
  await seedOutcomes(
    t.db,
    id,
    Array.from({ length: n }, (_, seq) => ({ seq, at: NOW, status: seq % 3 === 0 ? 2 : 0, detail: seq % 3 === 0 })),
  );
  await t.db.$client.query(
    `INSERT INTO run_inputs (run_id, seq, data) SELECT $1, s, '{}' FROM generate_series(0, $2 - 1) s`,
    [id, n],
  );
  await t.db.$client.query('INSERT INTO retry_selections (run_id, seq) VALUES ($1, 0)', [id]);
  await t.db.$client.query(
    `INSERT INTO collected_records (run_id, node_id, seq, key, data) SELECT $1, 'c', s, 'k', '{}' FROM generate_series(0, $2 - 1) s`,
    [id, n],
  );
  await t.db.$client.query(
    `INSERT INTO batches (run_id, batch_no, size, succeeded, filtered, failed, started_at, finished_at) VALUES ($1, 1, $2, 0, 0, 0, 1, 2)`,
    [id, n],
  );
  return id;
}

/** Per-record rows of a run, by table. */
async function rowsOf(runId: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of PER_RECORD)
    out[table] = Number(
      (await t.db.$client.query(`SELECT count(*) AS n FROM ${table} WHERE run_id = $1`, [runId])).rows[0].n,
    );
  return out;
}

const none = Object.fromEntries(PER_RECORD.map((table) => [table, 0]));

describe('PostgreSQL retention', () => {
  it('removes the per-record rows of the runs SQLite’s prune would, keeping their summaries', async () => {
    await seedFlow(t.db, 'kept');
    await seedFlow(t.db, 'other');
    const old = NOW - 10 * DAY;
    // flow "kept": six old runs (the newest three kept), one still running, two recent ones
    const olds = [];
    for (let i = 0; i < 6; i++) olds.push(await runWith({ flowId: 'kept', createdAt: old + i }, 300));
    const running = await runWith({ flowId: 'kept', createdAt: old + 10, status: 'running' }, 10);
    const recent = [];
    for (let i = 0; i < 2; i++) recent.push(await runWith({ flowId: 'kept', createdAt: NOW - DAY + i }, 10));
    // seven test runs, new: all but the newest five go, whatever their age; they do not push real runs out
    const tests = [];
    for (let i = 0; i < 7; i++) tests.push(await runWith({ flowId: 'kept', trigger: 'test', createdAt: NOW - i }, 5));
    // a draft's test runs count by flow name
    const drafts = [];
    for (let i = 0; i < 6; i++)
      drafts.push(await runWith({ flowId: null, flowName: 'draft', trigger: 'test', createdAt: NOW }, 5));
    // another flow, old, with one large run (more rows than a batch of each table)
    const large = await runWith({ flowId: 'other', createdAt: old }, 12_000);
    const otherKept = await runWith({ flowId: 'other', createdAt: old + 1 }, 10);

    const result = await new PgRetention(t.db).prune({ days: 7, runsPerFlow: 1 }, NOW);
    // of "kept", the six old runs go: its newest (a recent one) is kept, as is the other recent one (newer
    // than the cutoff) and the running one (not finished)
    const gone = [tests[0], tests[1], drafts[0], ...olds, large] as number[];
    expect(result.runs).toBe(gone.length);
    expect(result.outcomes).toBe(5 + 5 + 5 + 6 * 300 + 12_000);
    for (const id of gone) expect(await rowsOf(id)).toEqual(none);
    for (const id of [running, ...recent, ...tests.slice(2), ...drafts.slice(1), otherKept])
      expect((await rowsOf(id)).outcome_keys).toBeGreaterThan(0);

    // a pruned run keeps its summary, counts and batches, marked pruned
    const runs = new PgRunsCore(t.db);
    const summary = await runs.get(String(large));
    expect(summary).toMatchObject({
      prunedAt: new Date(NOW).toISOString(),
      counts: { read: 12_000, failed: 4_000 },
      batches: [{ batchNo: 1, size: 12_000 }],
    });
    expect((await runs.get(String(running))).prunedAt).toBeNull();

    // nothing more to do the second time
    expect(await new PgRetention(t.db).prune({ days: 7, runsPerFlow: 1 }, NOW)).toEqual({ runs: 0, outcomes: 0 });
  });

  it('keeps each flow’s newest runs however old, and runs newer than the cutoff', async () => {
    await seedFlow(t.db, 'newest');
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await runWith({ flowId: 'newest', createdAt: NOW - 30 * DAY + i }, 20));
    const result = await new PgRetention(t.db).prune({ days: 7, runsPerFlow: 4 }, NOW);
    expect(result).toEqual({ runs: 1, outcomes: 20 });
    expect(await rowsOf(ids[0] as number)).toEqual(none);
    expect((await rowsOf(ids[1] as number)).outcome_packs).toBe(1);
    expect(await new PgRetention(t.db).prune({ days: 60, runsPerFlow: 0 }, NOW)).toEqual({ runs: 0, outcomes: 0 });
  });

  it('lets one process prune at a time: the others leave it the work', async () => {
    await seedFlow(t.db, 'shared');
    for (let i = 0; i < 6; i++) await runWith({ flowId: 'shared', createdAt: NOW - 30 * DAY + i }, 1500);
    const both = await Promise.all([
      new PgRetention(t.db).prune({ days: 7, runsPerFlow: 4 }, NOW),
      new PgRetention(t.db).prune({ days: 7, runsPerFlow: 4 }, NOW),
    ]);
    expect(both[0].runs + both[1].runs).toBe(2);
    expect(both[0].outcomes + both[1].outcomes).toBe(2 * 1500);
  });
});
