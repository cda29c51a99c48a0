import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../errors.js';
import type { SessionRow, Storage, UserRow } from './port.js';
import { type StoreUnderTest, storesUnderTest } from './stores-under-test.js';

/** Users, sessions and tokens' owners and roles, on every store (see contract.test.ts). */
describe.each(storesUnderTest())('storage contract, users and sessions: $kind', (kind: StoreUnderTest) => {
  let s: Storage;

  beforeAll(async () => {
    s = await kind.open();
  });
  afterAll(async () => {
    await s.close();
    await kind.dispose();
  });

  const userOf = (id: string, email: string, role = 'editor'): UserRow => ({
    id,
    email,
    name: `Name of ${id}`,
    role,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
    active: true,
    createdAt: 1000,
    updatedAt: 1000,
  });

  const sessionOf = (id: string, userId: string, createdAt: number, expiresAt = 10_000): SessionRow => ({
    id,
    hash: `hash-${id}`,
    userId,
    createdAt,
    lastSeenAt: createdAt,
    expiresAt,
    address: '127.0.0.1',
    userAgent: null,
  });

  it('keeps users: add, find by id and e-mail, list by e-mail, change, count, remove; an e-mail once', async () => {
    const b = userOf('usr_b', 'b@example.com');
    const a = userOf('usr_a', 'a@example.com', 'admin');
    await s.users.insert(b);
    await s.users.insert(a);
    await expect(s.users.insert(userOf('usr_c', 'a@example.com'))).rejects.toBeInstanceOf(ConflictError);
    expect(await s.users.find('usr_a')).toEqual(a);
    expect(await s.users.findByEmail('b@example.com')).toEqual(b);
    expect(await s.users.findByEmail('nobody@example.com')).toBeUndefined();
    expect((await s.users.list()).map((u) => u.id)).toEqual(['usr_a', 'usr_b']);
    expect(await s.users.count()).toBe(2);
    const changed = { ...b, name: 'Bea', role: 'viewer', active: false, passwordHash: 'other', updatedAt: 2000 };
    expect(await s.users.update(changed)).toBe(true);
    expect(await s.users.find('usr_b')).toEqual(changed);
    expect(await s.users.update(userOf('usr_none', 'x@example.com'))).toBe(false);
    expect(await s.users.delete('usr_b')).toBe(true);
    expect(await s.users.delete('usr_b')).toBe(false);
    expect(await s.users.count()).toBe(1);
  });

  it('keeps sessions: by hash, a user’s newest first, touched, ended one, all but one, expired, and with their user', async () => {
    await s.users.insert(userOf('usr_s', 's@example.com'));
    await s.users.insert(userOf('usr_t', 't@example.com'));
    for (const row of [
      sessionOf('s1', 'usr_s', 100),
      sessionOf('s2', 'usr_s', 200),
      sessionOf('s3', 'usr_s', 300, 500),
      sessionOf('t1', 'usr_t', 100),
    ])
      await s.sessions.insert(row);
    expect(await s.sessions.findByHash('hash-s2')).toEqual(sessionOf('s2', 'usr_s', 200));
    expect(await s.sessions.findByHash('nope')).toBeUndefined();
    expect((await s.sessions.listForUser('usr_s')).map((r) => r.id)).toEqual(['s3', 's2', 's1']);
    await s.sessions.touch('s1', 700, 9_000);
    expect(await s.sessions.findByHash('hash-s1')).toMatchObject({ lastSeenAt: 700, expiresAt: 9_000 });
    expect(await s.sessions.deleteExpired(600)).toBe(1);
    expect(await s.sessions.delete('s2')).toBe(true);
    expect(await s.sessions.delete('s2')).toBe(false);
    await s.sessions.insert(sessionOf('s4', 'usr_s', 400));
    expect(await s.sessions.deleteForUser('usr_s', 's4')).toBe(1);
    expect((await s.sessions.listForUser('usr_s')).map((r) => r.id)).toEqual(['s4']);
    expect(await s.sessions.deleteForUser('usr_s')).toBe(1);
    // removing a user removes its sessions
    await s.users.delete('usr_t');
    expect(await s.sessions.findByHash('hash-t1')).toBeUndefined();
  });

  it('keeps a token’s owner, role and expiry; tokens without them are admin service tokens; a user’s go with deleteForUser', async () => {
    const service = await s.tokens.insert({ name: 'old', prefix: 'slc_a', hash: 'th1', createdAt: 1 });
    const owned = await s.tokens.insert({
      name: 'mine',
      prefix: 'slc_b',
      hash: 'th2',
      createdAt: 2,
      userId: 'usr_a',
      role: 'viewer',
      expiresAt: 5000,
    });
    expect(await s.tokens.findByHash('th1')).toMatchObject({
      id: service,
      userId: null,
      role: 'admin',
      expiresAt: null,
    });
    expect(await s.tokens.findByHash('th2')).toMatchObject({
      id: owned,
      userId: 'usr_a',
      role: 'viewer',
      expiresAt: 5000,
    });
    expect(await s.tokens.deleteForUser('usr_a')).toBe(1);
    expect((await s.tokens.list()).map((t) => t.id)).toEqual([service]);
  });
});
