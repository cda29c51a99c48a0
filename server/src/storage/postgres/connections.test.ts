import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../errors.js';
import type { ConnectionFields } from '../port.js';
import { PgConnectionRows } from './connections.js';
import { DATABASE_TESTS, useTestDatabase } from './test-database.js';

const database = useTestDatabase();

const fields = (name: string, over: Partial<ConnectionFields> = {}): ConnectionFields => ({
  name,
  baseUrl: 'https://api.example.com',
  auth: 'basic',
  username: 'me',
  headerName: null,
  secret: 'sealed:abc',
  checkPath: '/health',
  breakerThreshold: 5,
  breakerCooldownMs: 30_000,
  limitMaxConcurrent: 4,
  limitMaxPerSecond: 2.5,
  limitAdaptive: false,
  ...over,
});

describe('PgConnectionRows', DATABASE_TESTS, () => {
  it('inserts, finds and lists connections by name (bytewise, as SQLite orders them)', async () => {
    const rows = new PgConnectionRows(database.db);
    await rows.insert(fields('b-crm'), 1_000);
    await rows.insert(fields('B-shop', { auth: 'none', username: null, secret: null }), 1_000);
    await rows.insert(
      fields('a-erp', {
        breakerThreshold: null,
        breakerCooldownMs: null,
        limitMaxConcurrent: null,
        limitMaxPerSecond: null,
      }),
      1_000,
    );
    expect((await rows.list()).map((c) => c.name)).toEqual(['B-shop', 'a-erp', 'b-crm']);
    expect(await rows.find('b-crm')).toEqual({
      ...fields('b-crm'),
      lastStatus: null,
      lastStatusMessage: null,
      lastCheckedAt: null,
    });
    expect(await rows.find('a-erp')).toMatchObject({ limitMaxConcurrent: null, limitMaxPerSecond: null });
    expect(await rows.find('nobody')).toBeUndefined();
  });

  it('refuses a taken name with the conflict the API reports', async () => {
    const rows = new PgConnectionRows(database.db);
    await rows.insert(fields('taken'), 1);
    const err = await rows.insert(fields('taken', { baseUrl: 'https://other' }), 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({
      code: 'exists',
      message: 'name: a connection named "taken" already exists',
      path: 'name',
    });
    expect((await rows.find('taken'))?.baseUrl).toBe('https://api.example.com');
  });

  it('of two concurrent inserts of one name, one wins and the other is refused', async () => {
    const rows = new PgConnectionRows(database.db);
    const results = await Promise.allSettled([rows.insert(fields('race'), 1), rows.insert(fields('race'), 1)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected');
    expect(refused?.status === 'rejected' && refused.reason).toBeInstanceOf(ConflictError);
  });

  it('updates its fields, keeping its status; a missing one is not found', async () => {
    const rows = new PgConnectionRows(database.db);
    await rows.insert(fields('edit'), 1);
    await rows.setStatus('edit', 'up', null, 5);
    await rows.update(
      fields('edit', {
        baseUrl: 'https://new',
        auth: 'api-key',
        username: null,
        headerName: 'X-Key',
        checkPath: null,
        limitMaxConcurrent: null,
        limitMaxPerSecond: 0.5,
      }),
      6,
    );
    expect(await rows.find('edit')).toMatchObject({
      baseUrl: 'https://new',
      auth: 'api-key',
      username: null,
      headerName: 'X-Key',
      checkPath: null,
      limitMaxConcurrent: null,
      limitMaxPerSecond: 0.5,
      lastStatus: 'up',
      lastCheckedAt: 5,
    });
    await expect(rows.update(fields('missing'), 1)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('records a status check', async () => {
    const rows = new PgConnectionRows(database.db);
    await rows.insert(fields('checked'), 1);
    await rows.setStatus('checked', 'down', 'HTTP 503', 42);
    expect(await rows.find('checked')).toMatchObject({
      lastStatus: 'down',
      lastStatusMessage: 'HTTP 503',
      lastCheckedAt: 42,
    });
    await rows.setStatus('missing', 'down', null, 1);
  });

  it('deletes, telling whether there was one', async () => {
    const rows = new PgConnectionRows(database.db);
    await rows.insert(fields('deleted'), 1);
    expect(await rows.delete('deleted')).toBe(true);
    expect(await rows.delete('deleted')).toBe(false);
    expect(await rows.find('deleted')).toBeUndefined();
  });
});
