import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../errors.js';
import { PgFlowRows } from './flows.js';
import { PgScheduleSlots } from './slots.js';
import { DATABASE_TESTS, useTestDatabase } from './test-database.js';

const database = useTestDatabase();

let n = 0;
async function flow(): Promise<string> {
  const id = `flow_s${++n}`;
  await new PgFlowRows(database.db).create({ id, name: id, description: null, document: '{}', at: 1 });
  return id;
}

describe('PgScheduleSlots', DATABASE_TESTS, () => {
  it('arms a schedule once, re-arms it for another version (its last slot kept), not for the same', async () => {
    const id = await flow();
    const slots = new PgScheduleSlots(database.db);
    expect(await slots.get(id, 'cron')).toBeUndefined();
    expect(await slots.arm(id, 'cron', 1, 1_000)).toEqual({
      lastSlot: null,
      lastRunId: null,
      version: 1,
      updatedAt: 1_000,
    });
    // the same version again: left as armed
    expect(await slots.arm(id, 'cron', 1, 2_000)).toEqual({
      lastSlot: null,
      lastRunId: null,
      version: 1,
      updatedAt: 1_000,
    });
    expect(await slots.advance(id, 'cron', null, 60_000, '7')).toBe(true);
    expect(await slots.arm(id, 'cron', 1, 3_000)).toEqual({
      lastSlot: 60_000,
      lastRunId: '7',
      version: 1,
      updatedAt: 1_000,
    });
    // a newly published version: armed from now, the last slot kept
    expect(await slots.arm(id, 'cron', 2, 4_000)).toEqual({
      lastSlot: 60_000,
      lastRunId: '7',
      version: 2,
      updatedAt: 4_000,
    });
    expect(await slots.get(id, 'cron')).toEqual({ lastSlot: 60_000, lastRunId: '7', version: 2, updatedAt: 4_000 });
  });

  it('re-arms a disarmed schedule (flow turned off) when it is on again', async () => {
    const id = await flow();
    const rows = new PgFlowRows(database.db);
    const slots = new PgScheduleSlots(database.db);
    await slots.arm(id, 'cron', 1, 1_000);
    await rows.set(id, { enabled: false }, 2_000);
    expect((await slots.get(id, 'cron'))?.version).toBeNull();
    expect(await slots.arm(id, 'cron', 1, 3_000)).toMatchObject({ version: 1, updatedAt: 3_000 });
  });

  it('refuses to arm a schedule of a missing flow', async () => {
    await expect(new PgScheduleSlots(database.db).arm('flow_missing', 'cron', 1, 1)).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('moves the last slot only from the slot the caller saw; keeps the last run when given none', async () => {
    const id = await flow();
    const slots = new PgScheduleSlots(database.db);
    expect(await slots.advance(id, 'cron', null, 1, null)).toBe(false); // not armed: no row
    await slots.arm(id, 'cron', 1, 0);
    expect(await slots.advance(id, 'cron', 5, 10, '1')).toBe(false); // it is null, not 5
    expect(await slots.advance(id, 'cron', null, 10, '1')).toBe(true);
    expect(await slots.advance(id, 'cron', null, 20, '2')).toBe(false); // moved already
    expect(await slots.advance(id, 'cron', 10, 20, null)).toBe(true);
    expect(await slots.get(id, 'cron')).toMatchObject({ lastSlot: 20, lastRunId: '1' });
    expect(await slots.advance(id, 'cron', 20, 30, '3')).toBe(true);
    expect(await slots.get(id, 'cron')).toMatchObject({ lastSlot: 30, lastRunId: '3' });
  });

  it('of ten processes advancing the same slot at once, exactly one wins', async () => {
    const id = await flow();
    const slots = new PgScheduleSlots(database.db);
    await slots.arm(id, 'cron', 1, 0);
    await slots.advance(id, 'cron', null, 60_000, null);
    const won = await Promise.all(
      Array.from({ length: 10 }, (_, i) => slots.advance(id, 'cron', 60_000, 120_000, String(100 + i))),
    );
    expect(won.filter(Boolean)).toHaveLength(1);
    const winner = 100 + won.indexOf(true);
    expect(await slots.get(id, 'cron')).toMatchObject({ lastSlot: 120_000, lastRunId: String(winner) });
  });

  it('of processes arming one new schedule at once, all see it armed, once', async () => {
    const id = await flow();
    const slots = new PgScheduleSlots(database.db);
    const states = await Promise.all(Array.from({ length: 8 }, () => slots.arm(id, 'cron', 3, 5_000)));
    for (const state of states)
      expect(state).toEqual({ lastSlot: null, lastRunId: null, version: 3, updatedAt: 5_000 });
  });
});
