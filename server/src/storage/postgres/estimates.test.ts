import { describe, expect, it } from 'vitest';
import { PgEstimateRows } from './estimates.js';
import { useTestDatabase } from './test-database.js';
import { seedFlow, seedOutcomes, seedRun } from './test-seed.js';

const t = useTestDatabase();

describe('PostgreSQL estimate rows', () => {
  it('gives a flow’s newest succeeded runs with their times and documents, not retries, tests or unfinished ones', async () => {
    const versionId = await seedFlow(t.db, 'measured');
    const timed = { flowId: 'measured', flowVersionId: versionId, startedAt: 1_000, finishedAt: 3_000 };
    const first = await seedRun(t.db, { ...timed, read: 10 });
    await seedRun(t.db, { ...timed, trigger: 'retry' });
    await seedRun(t.db, { ...timed, trigger: 'test' });
    await seedRun(t.db, { ...timed, status: 'failed' });
    await seedRun(t.db, { ...timed, finishedAt: null });
    const second = await seedRun(t.db, { ...timed, read: 20, flowVersionId: null });
    const third = await seedRun(t.db, { ...timed, read: 30, startedAt: 2_000, finishedAt: 2_500 });
    const rows = new PgEstimateRows(t.db);
    const measured = await rows.measuredRuns('measured', 5);
    expect(measured.map((r) => r.id)).toEqual([third, second, first].map(String));
    expect(measured[0]).toEqual({
      id: String(third),
      read: 30,
      startedAt: 2_000,
      finishedAt: 2_500,
      document: expect.stringContaining('"measured"'),
    });
    expect(measured[1]?.document).toBeNull();
    expect((await rows.measuredRuns('measured', 2)).map((r) => r.id)).toEqual([third, second].map(String));
    expect(await rows.measuredRuns('no-such-flow', 5)).toEqual([]);
  });

  it('gives a run’s failed count', async () => {
    const id = await seedRun(t.db, { flowId: null, failed: 7 });
    const rows = new PgEstimateRows(t.db);
    expect(await rows.failedCount(String(id))).toBe(7);
    expect(await rows.failedCount('999999')).toBeUndefined();
  });

  it('finds a run’s first and last settled records in its packs, also at or below a position', async () => {
    const id = await seedRun(t.db, { flowId: null, status: 'running' });
    // positions 3..700 but a gap over the whole of bucket 1 (256..511), and bucket 2 written in two parts
    const at = (seq: number) => 10_000 + seq * 10;
    const seqs = Array.from({ length: 698 }, (_, i) => i + 3).filter((s) => s < 256 || s >= 512);
    await seedOutcomes(
      t.db,
      id,
      seqs.filter((s) => s < 650).map((seq) => ({ seq, at: at(seq) })),
    );
    await seedOutcomes(
      t.db,
      id,
      seqs.filter((s) => s >= 640).map((seq) => ({ seq, at: at(seq) + 1 })),
      1,
    );
    const rows = new PgEstimateRows(t.db);
    expect(await rows.firstSettled(String(id))).toEqual({ seq: 3, at: at(3) });
    // the last part that has a position says what it is
    expect(await rows.lastSettled(String(id))).toEqual({ seq: 700, at: at(700) + 1 });
    expect(await rows.lastSettled(String(id), 645)).toEqual({ seq: 645, at: at(645) + 1 });
    expect(await rows.lastSettled(String(id), 600)).toEqual({ seq: 600, at: at(600) });
    // nothing at or below 511 in buckets 1 and 2 (512 is the first of bucket 2): bucket 0's last
    expect(await rows.lastSettled(String(id), 511)).toEqual({ seq: 255, at: at(255) });
    expect(await rows.lastSettled(String(id), 300)).toEqual({ seq: 255, at: at(255) });
    expect(await rows.lastSettled(String(id), 2)).toBeUndefined();
    const empty = await seedRun(t.db, { flowId: null, status: 'running' });
    expect(await rows.lastSettled(String(empty))).toBeUndefined();
    expect(await rows.firstSettled(String(empty))).toBeUndefined();
  });
});
