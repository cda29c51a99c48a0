import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRow, Storage } from './port.js';
import { type StoreUnderTest, storesUnderTest } from './stores-under-test.js';

/** The audit methods of the storage port, on every store (see contract.test.ts). */
describe.each(storesUnderTest())('storage contract, audit log: $kind', (kind: StoreUnderTest) => {
  let s: Storage;

  beforeAll(async () => {
    s = await kind.open();
  });
  afterAll(async () => {
    await s.close();
    await kind.dispose();
  });

  const entryOf = (over: Partial<Omit<AuditRow, 'id'>> = {}): Omit<AuditRow, 'id'> => ({
    at: 1_000,
    actorKind: 'token',
    actorId: '1',
    actorName: 'ci',
    address: '127.0.0.1',
    action: 'flow.saved',
    objectType: 'flow',
    objectId: 'f1',
    summary: '{"version":2}',
    outcome: 'ok',
    error: null,
    ...over,
  });

  it('appends entries and reads them back newest first, as written', async () => {
    const first = await s.audit.append(entryOf());
    const second = await s.audit.append(entryOf({ at: 2_000, action: 'flow.published', summary: null }));
    expect(Number(second)).toBeGreaterThan(Number(first));
    const rows = await s.audit.list({ limit: 10, objectId: 'f1' });
    expect(rows).toEqual([
      { id: second, ...entryOf({ at: 2_000, action: 'flow.published', summary: null }) },
      { id: first, ...entryOf() },
    ]);
  });

  it('filters by actor, action, object, outcome and time, and pages by cursor', async () => {
    const base = 100_000;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        await s.audit.append(
          entryOf({
            at: base + i,
            actorId: i % 2 ? 'odd' : 'even',
            actorKind: i === 4 ? 'cli' : 'token',
            action: i === 3 ? 'run.cancelled' : 'connection.changed',
            objectType: i === 3 ? 'run' : 'connection',
            objectId: `c${i}`,
            outcome: i === 2 ? 'refused' : 'ok',
            error: i === 2 ? 'not_found' : null,
          }),
        ),
      );
    }
    const idsOf = (rows: AuditRow[]) => rows.map((r) => r.id);
    const within = { from: base, to: base + 5 };
    expect(idsOf(await s.audit.list({ ...within, limit: 10, actorId: 'odd' }))).toEqual([ids[3], ids[1]]);
    expect(idsOf(await s.audit.list({ ...within, limit: 10, actorKind: 'cli' }))).toEqual([ids[4]]);
    expect(idsOf(await s.audit.list({ ...within, limit: 10, action: 'run.cancelled' }))).toEqual([ids[3]]);
    expect(idsOf(await s.audit.list({ limit: 10, objectType: 'connection', objectId: 'c1' }))).toEqual([ids[1]]);
    expect(idsOf(await s.audit.list({ ...within, limit: 10, outcome: 'refused' }))).toEqual([ids[2]]);
    expect(idsOf(await s.audit.list({ from: base + 1, to: base + 3, limit: 10 }))).toEqual([ids[2], ids[1]]);
    const page1 = await s.audit.list({ ...within, limit: 2 });
    expect(idsOf(page1)).toEqual([ids[4], ids[3]]);
    const page2 = await s.audit.list({ ...within, limit: 2, cursor: Number(page1.at(-1)?.id) });
    expect(idsOf(page2)).toEqual([ids[2], ids[1]]);
  });

  it('keeps text with a NUL character (an id from a refused request’s path) and finds it by it', async () => {
    const odd = 'a\u0000b\uE000c';
    const id = await s.audit.append(entryOf({ objectId: odd, error: 'not_found', outcome: 'refused', summary: null }));
    const [row] = await s.audit.list({ limit: 1, objectId: odd });
    expect(row).toEqual({ id, ...entryOf({ objectId: odd, error: 'not_found', outcome: 'refused', summary: null }) });
  });

  it('prunes entries written before a time, and only those', async () => {
    const old = await s.audit.append(entryOf({ at: 10, objectId: 'old' }));
    const kept = await s.audit.append(entryOf({ at: 5_000_000_000, objectId: 'kept' }));
    const removed = await s.audit.prune(11);
    expect(removed).toBeGreaterThanOrEqual(1);
    expect(await s.audit.list({ limit: 10, objectId: 'old' })).toEqual([]);
    expect((await s.audit.list({ limit: 10, objectId: 'kept' })).map((r) => r.id)).toEqual([kept]);
    expect(old).not.toBe(kept);
  });
});
