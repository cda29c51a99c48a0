import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../errors.js';
import { DATABASE_TESTS, useTestDatabase } from './test-database.js';
import { PgTokenRows } from './tokens.js';

const database = useTestDatabase();

describe('PgTokenRows', DATABASE_TESTS, () => {
  it('stores tokens, finds one by hash, lists them by id, counts, touches and deletes', async () => {
    const rows = new PgTokenRows(database.db);
    expect(await rows.count()).toBe(0);
    const first = await rows.insert({ name: 'ci', prefix: 'slk_ab', hash: 'h1', createdAt: 1_000 });
    const second = await rows.insert({ name: 'me', prefix: 'slk_cd', hash: 'h2', createdAt: 2_000 });
    expect(typeof first).toBe('number');
    expect(second).toBeGreaterThan(first);
    expect(await rows.count()).toBe(2);
    expect(await rows.findByHash('h2')).toEqual({
      id: second,
      name: 'me',
      prefix: 'slk_cd',
      hash: 'h2',
      createdAt: 2_000,
      lastUsedAt: null,
      userId: null,
      role: 'admin',
      expiresAt: null,
    });
    expect(await rows.findByHash('nope')).toBeUndefined();
    await rows.touch(first, 5_000);
    expect((await rows.list()).map((t) => [t.id, t.name, t.lastUsedAt])).toEqual([
      [first, 'ci', 5_000],
      [second, 'me', null],
    ]);
    expect(await rows.delete(first)).toBe(true);
    expect(await rows.delete(first)).toBe(false);
    expect(await rows.count()).toBe(1);
  });

  it('refuses a hash stored already', async () => {
    const rows = new PgTokenRows(database.db);
    await rows.insert({ name: 'a', prefix: 'p', hash: 'same', createdAt: 1 });
    await expect(rows.insert({ name: 'b', prefix: 'p', hash: 'same', createdAt: 1 })).rejects.toBeInstanceOf(
      ConflictError,
    );
  });
});
