import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../errors.js';
import { PgFlowRows } from './flows.js';
import { PgHookRows } from './hooks.js';
import { DATABASE_TESTS, useTestDatabase } from './test-database.js';

const database = useTestDatabase();

async function flow(id: string) {
  await new PgFlowRows(database.db).create({ id, name: id, description: null, document: '{}', at: 1 });
}

describe('PgHookRows', DATABASE_TESTS, () => {
  it('inserts a hook, finds it by address and by node, and changes its secret', async () => {
    await flow('f1');
    const rows = new PgHookRows(database.db);
    await rows.insert({ id: 'hk_1', flowId: 'f1', nodeId: 'in', secret: 'sealed1', createdAt: 10 });
    const hook = { id: 'hk_1', flowId: 'f1', nodeId: 'in', secret: 'sealed1' };
    expect(await rows.get('hk_1')).toEqual(hook);
    expect(await rows.find('f1', 'in')).toEqual(hook);
    expect(await rows.find('f1', 'other')).toBeUndefined();
    expect(await rows.get('hk_nope')).toBeUndefined();
    await rows.setSecret('hk_1', 'sealed2');
    expect((await rows.get('hk_1'))?.secret).toBe('sealed2');
    await expect(rows.setSecret('hk_nope', 'x')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a second hook for one node (a clash between two processes), and one for a missing flow', async () => {
    await flow('f2');
    const rows = new PgHookRows(database.db);
    await rows.insert({ id: 'hk_a', flowId: 'f2', nodeId: 'in', secret: 's', createdAt: 1 });
    await expect(
      rows.insert({ id: 'hk_b', flowId: 'f2', nodeId: 'in', secret: 's', createdAt: 1 }),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(
      rows.insert({ id: 'hk_a', flowId: 'f2', nodeId: 'other', secret: 's', createdAt: 1 }),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(
      rows.insert({ id: 'hk_c', flowId: 'f_missing', nodeId: 'in', secret: 's', createdAt: 1 }),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect((await rows.find('f2', 'in'))?.id).toBe('hk_a');
  });
});
