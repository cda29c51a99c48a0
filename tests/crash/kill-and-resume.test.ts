import { describe, expect, it } from 'vitest';
import { runCrashScenario } from './scenario.js';

/** Kills and records are parameters: the benchmark script runs this scenario with 20 kills. */
const KILLS = Number(process.env.SLUICE_CRASH_KILLS ?? 5);
const RECORDS = Number(process.env.SLUICE_CRASH_RECORDS ?? 20_000);

describe(`kill -9 the server ${KILLS} times during a ${RECORDS}-record run`, () => {
  it('resumes every time and ends with every record accounted for once and written once', async () => {
    const r = await runCrashScenario(KILLS, RECORDS);
    expect(r.kills, 'the run was still going at every kill').toBe(KILLS);
    expect(r.final.status).toBe('succeeded');
    const { read, succeeded, failed, filtered, cancelled } = r.final.counts;
    expect(read).toBe(RECORDS);
    expect(succeeded + failed + filtered + cancelled).toBe(RECORDS);
    expect(cancelled).toBe(0);
    expect(r.final.nodeCounts.erp).toEqual({ in: RECORDS, out: succeeded, error: failed, filtered: 0 });

    // the stored log: one outcome per record, every key once, nothing lost
    expect(r.stored).toEqual({ n: RECORDS, keys: RECORDS, lo: 0, hi: RECORDS - 1 });
    expect(r.byStatus).toEqual([
      { status: 0, n: succeeded },
      { status: 2, n: failed },
    ]);
    expect(r.batches).toEqual({ n: RECORDS / 50, records: RECORDS });

    // the ERP: each good work order written exactly once, each rejected one failed in Sluice
    expect(r.recordsLost).toBe(0);
    expect(r.recordsDuplicated).toBe(0);
    expect(Object.keys(r.erp.writes)).toHaveLength(succeeded);
    expect(Object.keys(r.erp.rejections)).toHaveLength(failed);
    console.log(
      `crash test: ${KILLS} kills at ${r.progress.join(', ')} settled records; ${RECORDS} records, ${succeeded} written once, ` +
        `${failed} rejected, ${r.erp.replays} replayed writes answered from the idempotency log, 0 lost, 0 duplicated`,
    );
  }, 600_000);
});
