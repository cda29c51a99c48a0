import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../errors.js';
import { PgFlowRows } from './flows.js';
import { PgHookRows } from './hooks.js';
import { runs, watermarks } from './schema.js';
import { PgScheduleSlots } from './slots.js';
import { DATABASE_TESTS, useTestDatabase } from './test-database.js';

const database = useTestDatabase();

let next = 0;
/** A flow id of its own for each test (they share the file's database). */
const newId = () => `flow_t${++next}_${Math.random().toString(36).slice(2, 8)}`;

async function created(name = 'orders', at = 1_000) {
  const rows = new PgFlowRows(database.db);
  const id = newId();
  await rows.create({ id, name, description: 'd', document: `{"name":"${name}","v":1}`, at });
  return { rows, id };
}

async function addRun(flowId: string, status: 'queued' | 'running' | 'succeeded' = 'succeeded') {
  await database.db.insert(runs).values({ flowId, flowName: 'x', status, trigger: 'manual', createdAt: 1 });
}

describe('PgFlowRows', DATABASE_TESTS, () => {
  it('creates a flow at version 1 with its document, and reads it back', async () => {
    const { rows, id } = await created('create-me', 5_000);
    expect(await rows.get(id)).toEqual({
      id,
      name: 'create-me',
      description: 'd',
      latestVersion: 1,
      publishedVersion: null,
      enabled: true,
      createdAt: 5_000,
      updatedAt: 5_000,
      archivedAt: null,
    });
    const v1 = await rows.version(id, 1);
    expect(v1).toMatchObject({ flowId: id, version: 1, document: '{"name":"create-me","v":1}', createdAt: 5_000 });
    expect(typeof v1?.id).toBe('string');
    expect(await rows.version(id, 2)).toBeUndefined();
    expect(await rows.get('flow_nope')).toBeUndefined();
  });

  it('refuses a second flow with the same id', async () => {
    const { rows, id } = await created();
    await expect(rows.create({ id, name: 'again', description: null, document: '{}', at: 1 })).rejects.toBeInstanceOf(
      ConflictError,
    );
  });

  it('keeps a document byte for byte (key order, spacing)', async () => {
    const rows = new PgFlowRows(database.db);
    const id = newId();
    const document = '{"z":1,"a":{"y":2,"b":[3,  4]},"name":"é\\u0000"}';
    await rows.create({ id, name: 'bytes', description: null, document, at: 1 });
    expect((await rows.version(id, 1))?.document).toBe(document);
  });

  it('adds versions: the next number, the flow renamed and touched; newest first', async () => {
    const { rows, id } = await created('v');
    expect(await rows.addVersion(id, { name: 'v2', description: null, document: '{"v":2}', at: 2_000 })).toBe(2);
    expect(await rows.addVersion(id, { name: 'v3', description: 'three', document: '{"v":3}', at: 3_000 })).toBe(3);
    expect(await rows.get(id)).toMatchObject({ name: 'v3', description: 'three', latestVersion: 3, updatedAt: 3_000 });
    expect((await rows.versions(id)).map((v) => [v.version, v.document])).toEqual([
      [3, '{"v":3}'],
      [2, '{"v":2}'],
      [1, '{"name":"v","v":1}'],
    ]);
    await expect(
      rows.addVersion('flow_nope', { name: 'x', description: null, document: '{}', at: 1 }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it('gives ten concurrent saves the versions 2 to 11, each once', async () => {
    const { rows, id } = await created('busy');
    const saves = Array.from({ length: 10 }, (_, i) =>
      rows.addVersion(id, { name: 'busy', description: null, document: `{"save":${i}}`, at: 10_000 + i }),
    );
    const numbers = await Promise.all(saves);
    expect([...numbers].sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const versions = await rows.versions(id);
    expect(versions.map((v) => v.version)).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    // each save's document is under the number it was told
    for (const [i, n] of numbers.entries()) {
      expect(versions.find((v) => v.version === n)?.document).toBe(`{"save":${i}}`);
    }
    expect((await rows.get(id))?.latestVersion).toBe(11);
  });

  it('publishes a version and lists published, enabled, unarchived flows with that document', async () => {
    const { rows, id } = await created('pub');
    await rows.addVersion(id, { name: 'pub', description: null, document: '{"v":2}', at: 2_000 });
    expect((await rows.published()).find((p) => p.id === id)).toBeUndefined();
    await rows.set(id, { publishedVersion: 1 }, 3_000);
    expect(await rows.get(id)).toMatchObject({ publishedVersion: 1, updatedAt: 3_000, latestVersion: 2 });
    expect((await rows.published()).find((p) => p.id === id)).toEqual({
      id,
      version: 1,
      document: '{"name":"pub","v":1}',
      publishedAt: 1_000,
    });
    await rows.set(id, { enabled: false }, 4_000);
    expect((await rows.published()).find((p) => p.id === id)).toBeUndefined();
    await rows.set(id, { enabled: true }, 5_000);
    expect((await rows.published()).find((p) => p.id === id)?.version).toBe(1);
    await expect(rows.set('flow_nope', { enabled: true }, 1)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('turning a flow off disarms its schedules; turning it on does not re-arm them', async () => {
    const { rows, id } = await created('sched');
    const slots = new PgScheduleSlots(database.db);
    await slots.arm(id, 'n1', 1, 100);
    await slots.arm(id, 'n2', 1, 100);
    await rows.set(id, { enabled: true }, 200);
    expect((await slots.get(id, 'n1'))?.version).toBe(1);
    await rows.set(id, { enabled: false }, 300);
    expect(await rows.get(id)).toMatchObject({ enabled: false, updatedAt: 300 });
    expect((await slots.get(id, 'n1'))?.version).toBeNull();
    expect((await slots.get(id, 'n2'))?.version).toBeNull();
    await rows.set(id, { enabled: true }, 400);
    expect((await slots.get(id, 'n1'))?.version).toBeNull();
  });

  it('archives (off, disarmed, hidden) and brings back (still off)', async () => {
    const { rows, id } = await created('arch');
    const slots = new PgScheduleSlots(database.db);
    await slots.arm(id, 'n', 1, 100);
    await rows.setArchived(id, true, 500);
    expect(await rows.get(id)).toMatchObject({ archivedAt: 500, enabled: false, updatedAt: 500 });
    expect((await slots.get(id, 'n'))?.version).toBeNull();
    expect((await rows.list(false)).map((f) => f.id)).not.toContain(id);
    expect((await rows.list(true)).map((f) => f.id)).toContain(id);
    expect(await rows.findByName('arch')).toBeUndefined();
    await rows.setArchived(id, false, 600);
    expect(await rows.get(id)).toMatchObject({ archivedAt: null, enabled: false, updatedAt: 600 });
    expect((await rows.list(false)).map((f) => f.id)).toContain(id);
    expect((await rows.list(true)).map((f) => f.id)).not.toContain(id);
    await expect(rows.setArchived('flow_nope', true, 1)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists flows most recently changed first', async () => {
    const rows = new PgFlowRows(database.db);
    const ids = [newId(), newId(), newId()];
    await rows.create({ id: ids[0] as string, name: 'l0', description: null, document: '{}', at: 9_000_000 });
    await rows.create({ id: ids[1] as string, name: 'l1', description: null, document: '{}', at: 9_000_002 });
    await rows.create({ id: ids[2] as string, name: 'l2', description: null, document: '{}', at: 9_000_001 });
    await rows.addVersion(ids[0] as string, { name: 'l0', description: null, document: '{}', at: 9_000_003 });
    const listed = (await rows.list(false)).map((f) => f.id).filter((id) => ids.includes(id));
    expect(listed).toEqual([ids[0], ids[1], ids[2]]);
  });

  it('finds the oldest unarchived flow of a name', async () => {
    const rows = new PgFlowRows(database.db);
    const [older, newer] = [newId(), newId()];
    await rows.create({ id: newer, name: 'twin', description: null, document: '{}', at: 2_000 });
    await rows.create({ id: older, name: 'twin', description: null, document: '{}', at: 1_000 });
    expect((await rows.findByName('twin'))?.id).toBe(older);
    await rows.setArchived(older, true, 3_000);
    expect((await rows.findByName('twin'))?.id).toBe(newer);
    expect(await rows.findByName('nobody')).toBeUndefined();
  });

  it('counts unfinished runs and tells whether a flow has runs', async () => {
    const { rows, id } = await created('counted');
    expect(await rows.hasRuns(id)).toBe(false);
    expect(await rows.unfinishedRuns(id)).toBe(0);
    await addRun(id, 'succeeded');
    expect(await rows.hasRuns(id)).toBe(true);
    expect(await rows.unfinishedRuns(id)).toBe(0);
    await addRun(id, 'queued');
    await addRun(id, 'running');
    expect(await rows.unfinishedRuns(id)).toBe(2);
  });

  it('removes a flow with its versions, schedule state, hooks and watermarks, in one go', async () => {
    const { rows, id } = await created('gone');
    await rows.addVersion(id, { name: 'gone', description: null, document: '{}', at: 2 });
    await new PgScheduleSlots(database.db).arm(id, 'n', 1, 1);
    await new PgHookRows(database.db).insert({ id: `hk_${id}`, flowId: id, nodeId: 'h', secret: 's', createdAt: 1 });
    await database.db.insert(watermarks).values({ flowId: id, nodeId: 'w', value: '5', runId: 1, updatedAt: 1 });
    await rows.remove(id);
    expect(await rows.get(id)).toBeUndefined();
    expect(await rows.versions(id)).toEqual([]);
    expect(await new PgScheduleSlots(database.db).get(id, 'n')).toBeUndefined();
    expect(await new PgHookRows(database.db).get(`hk_${id}`)).toBeUndefined();
  });

  it('refuses to remove a flow that has runs, and keeps all of it', async () => {
    const { rows, id } = await created('kept');
    await new PgScheduleSlots(database.db).arm(id, 'n', 1, 1);
    await addRun(id);
    await expect(rows.remove(id)).rejects.toBeInstanceOf(ConflictError);
    expect(await rows.get(id)).toBeDefined();
    expect(await rows.versions(id)).toHaveLength(1);
    expect(await new PgScheduleSlots(database.db).get(id, 'n')).toBeDefined();
  });
});
