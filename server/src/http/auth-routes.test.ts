import { HTTP_STATUS } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Identity } from '../auth/identity.js';
import { TokenStore } from '../auth/tokens.js';
import { type AppDeps, createApp } from './app.js';
import { openTestSluice, TEST_TOKEN, type TestSluice } from './test-support.js';

/** Signing in and out, the session cookie, CSRF, throttling, passwords, users and their tokens, over HTTP. */

let t: TestSluice;
let clock = Date.parse('2026-12-01T00:00:00Z');
let app: ReturnType<typeof createApp>;
const PASSWORD = 'correct horse battery';

beforeAll(async () => {
  t = await openTestSluice({ start: false });
  // the same stores, with a clock the test moves (the throttle's waits, sessions' expiry)
  const identity = new Identity(
    { users: t.parts.storage.users, sessions: t.parts.storage.sessions, tokens: t.parts.storage.tokens },
    { now: () => clock },
  );
  const tokens = new TokenStore(t.parts.storage.tokens, TEST_TOKEN, () => clock, t.parts.storage.users);
  app = createApp({ ...t.parts, identity, tokens } as AppDeps, { checkAnswers: true });
  await identity.createUser({ email: 'ada@example.com', name: 'Ada', role: 'admin', password: PASSWORD });
  await identity.createUser({ email: 'ed@example.com', name: 'Ed', role: 'editor', password: PASSWORD });
}, 60_000);

afterAll(async () => {
  await t?.close();
});

const json = { 'content-type': 'application/json' };

async function login(email: string, password = PASSWORD, headers: Record<string, string> = {}) {
  const res = await app.request('/api/auth/login', {
    method: 'POST',
    headers: { ...json, ...headers },
    body: JSON.stringify({ email, password }),
  });
  const cookie = /^sluice_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  const body = (await res.json()) as { csrfToken?: string; error?: { code: string } };
  return { res, body, cookie: cookie ? `sluice_session=${cookie}` : '', csrf: body.csrfToken ?? '' };
}

const asBearer = { authorization: `Bearer ${TEST_TOKEN}`, ...json };

describe('signing in', () => {
  it('sets an HttpOnly, SameSite=Strict session cookie (Secure over TLS), and the session answers who and what', async () => {
    const { res, body, cookie } = await login('Ada@Example.com');
    expect(res.status).toBe(HTTP_STATUS.OK);
    const set = res.headers.get('set-cookie') ?? '';
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(set).not.toMatch(/Secure/);
    expect(body).toMatchObject({ role: 'admin', actor: { kind: 'user', name: 'ada@example.com' } });
    const session = await app.request('/api/session', { headers: { cookie } });
    expect(await session.json()).toMatchObject({ role: 'admin', csrfToken: body.csrfToken });
    const overTls = await login('ada@example.com', PASSWORD, { 'x-forwarded-proto': 'https' });
    expect(overTls.res.headers.get('set-cookie')).toMatch(/Secure/);
  });

  it('refuses a wrong password or an unknown e-mail alike, 401', async () => {
    for (const email of ['ada@example.com', 'nobody@example.com']) {
      const { res, body } = await login(email, 'wrong password!');
      expect(res.status).toBe(HTTP_STATUS.UNAUTHORIZED);
      expect(body.error?.code).toBe('unauthorized');
      clock += 16 * 60_000; // past the throttle's window: this test is not about it
    }
  });

  it('signs in from JSON only: a form a page elsewhere could post (text/plain shaped like JSON) is refused', async () => {
    const res = await app.request('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ email: 'ada@example.com', password: PASSWORD }),
    });
    expect(res.status).toBe(HTTP_STATUS.UNSUPPORTED_MEDIA_TYPE);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('20 wrong passwords: 429 with Retry-After; after the wait the right password works', async () => {
    const statuses: number[] = [];
    let retryAfter = 0;
    for (let i = 0; i < 20; i++) {
      const { res } = await login('ed@example.com', `wrong-${i}`, { 'user-agent': 'guesser' });
      statuses.push(res.status);
      if (res.status === HTTP_STATUS.TOO_MANY_REQUESTS) retryAfter = Number(res.headers.get('retry-after'));
    }
    expect(statuses.slice(0, 5)).toEqual(Array(5).fill(HTTP_STATUS.UNAUTHORIZED));
    expect(new Set(statuses.slice(5))).toEqual(new Set([HTTP_STATUS.TOO_MANY_REQUESTS]));
    expect(retryAfter).toBeGreaterThan(0);
    // the right password is refused too while the account waits
    expect((await login('ed@example.com')).res.status).toBe(HTTP_STATUS.TOO_MANY_REQUESTS);
    clock += retryAfter * 1000;
    const after = await login('ed@example.com');
    expect(after.res.status).toBe(HTTP_STATUS.OK);
    expect(after.body).toMatchObject({ role: 'editor' });
  });

  it('a session cookie without the CSRF token changes nothing; with it, it does; a bearer token needs none', async () => {
    const { cookie, csrf } = await login('ed@example.com');
    const flow = JSON.stringify({ format: 1, name: 'csrf', nodes: [], edges: [] });
    const before = (await (await app.request('/api/flows', { headers: asBearer })).json()) as { items: unknown[] };
    for (const headers of [{ cookie }, { cookie, 'x-csrf-token': 'forged' }, { cookie, 'x-csrf-token': '' }] as Record<
      string,
      string
    >[]) {
      const res = await app.request('/api/flows', { method: 'POST', headers: { ...json, ...headers }, body: flow });
      expect(res.status).toBe(HTTP_STATUS.FORBIDDEN);
      expect(await res.json()).toMatchObject({ error: { code: 'csrf', path: 'X-CSRF-Token' } });
    }
    const after = (await (await app.request('/api/flows', { headers: asBearer })).json()) as { items: unknown[] };
    expect(after.items).toHaveLength(before.items.length);
    const made = await app.request('/api/flows', {
      method: 'POST',
      headers: { ...json, cookie, 'x-csrf-token': csrf },
      body: flow,
    });
    expect(made.status).toBe(HTTP_STATUS.CREATED);
    expect((await app.request('/api/flows', { method: 'POST', headers: asBearer, body: flow })).status).toBe(
      HTTP_STATUS.CREATED,
    );
    // reading needs no CSRF token
    expect((await app.request('/api/flows', { headers: { cookie } })).status).toBe(HTTP_STATUS.OK);
  });

  it('logout ends the session; a session unused for a week has ended', async () => {
    const { cookie, csrf } = await login('ed@example.com');
    const out = await app.request('/api/auth/logout', { method: 'POST', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.status).toBe(HTTP_STATUS.NO_CONTENT);
    expect(out.headers.get('set-cookie')).toMatch(/sluice_session=;/);
    expect((await app.request('/api/session', { headers: { cookie } })).status).toBe(HTTP_STATUS.UNAUTHORIZED);
    const idle = await login('ed@example.com');
    clock += 7 * 86_400_000 + 1;
    expect((await app.request('/api/session', { headers: { cookie: idle.cookie } })).status).toBe(
      HTTP_STATUS.UNAUTHORIZED,
    );
  });

  it('a password change signs out the other sessions, keeps this one, and the new password works', async () => {
    const other = await login('ed@example.com');
    const here = await login('ed@example.com');
    const listed = await app.request('/api/sessions', { headers: { cookie: here.cookie } });
    const sessions = ((await listed.json()) as { items: { id: string; current: boolean }[] }).items;
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    const wrong = await app.request('/api/session/password', {
      method: 'POST',
      headers: { ...json, cookie: here.cookie, 'x-csrf-token': here.csrf },
      body: JSON.stringify({ currentPassword: 'not it at all', newPassword: 'a new password!' }),
    });
    expect(wrong.status).toBe(HTTP_STATUS.BAD_REQUEST);
    expect(await wrong.json()).toMatchObject({ error: { path: 'currentPassword' } });
    const changed = await app.request('/api/session/password', {
      method: 'POST',
      headers: { ...json, cookie: here.cookie, 'x-csrf-token': here.csrf },
      body: JSON.stringify({ currentPassword: PASSWORD, newPassword: 'a new password!' }),
    });
    expect(changed.status).toBe(HTTP_STATUS.NO_CONTENT);
    expect((await app.request('/api/session', { headers: { cookie: other.cookie } })).status).toBe(401);
    expect((await app.request('/api/session', { headers: { cookie: here.cookie } })).status).toBe(200);
    expect((await login('ed@example.com', 'a new password!')).res.status).toBe(HTTP_STATUS.OK);
    // and a session is revoked from the list
    const third = await login('ed@example.com', 'a new password!');
    const ids = (
      (await (await app.request('/api/sessions', { headers: { cookie: here.cookie } })).json()) as {
        items: { id: string; current: boolean }[];
      }
    ).items.filter((s) => !s.current);
    for (const s of ids) {
      const res = await app.request(`/api/sessions/${s.id}`, {
        method: 'DELETE',
        headers: { cookie: here.cookie, 'x-csrf-token': here.csrf },
      });
      expect(res.status).toBe(HTTP_STATUS.NO_CONTENT);
    }
    expect((await app.request('/api/session', { headers: { cookie: third.cookie } })).status).toBe(401);
  });
});

describe('users and their tokens', () => {
  it('an admin adds a user; the user signs in with its role; the last admin cannot be demoted or removed', async () => {
    const admin = await login('ada@example.com');
    const headers = { ...json, cookie: admin.cookie, 'x-csrf-token': admin.csrf };
    const made = await app.request('/api/users', {
      method: 'POST',
      headers,
      body: JSON.stringify({ email: 'Vi@Example.com', name: 'Vi', role: 'viewer', password: 'viewer password' }),
    });
    expect(made.status).toBe(HTTP_STATUS.CREATED);
    const user = (await made.json()) as { id: string; email: string };
    expect(user.email).toBe('vi@example.com');
    const taken = await app.request('/api/users', {
      method: 'POST',
      headers,
      body: JSON.stringify({ email: 'vi@example.com', name: 'Vi', role: 'viewer', password: 'viewer password' }),
    });
    expect(taken.status).toBe(HTTP_STATUS.CONFLICT);
    const vi = await login('vi@example.com', 'viewer password');
    expect(vi.body).toMatchObject({ role: 'viewer' });
    const refused = await app.request('/api/flows', {
      method: 'POST',
      headers: { ...json, cookie: vi.cookie, 'x-csrf-token': vi.csrf },
      body: '{}',
    });
    expect(refused.status).toBe(HTTP_STATUS.FORBIDDEN);
    expect(await refused.json()).toMatchObject({ error: { code: 'forbidden', permission: 'flows.write' } });
    const adminId = ((await admin.body) as { user?: { id: string } }).user?.id;
    const demote = await app.request(`/api/users/${adminId}`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ role: 'editor' }),
    });
    expect(demote.status).toBe(HTTP_STATUS.CONFLICT);
    expect((await app.request(`/api/users/${adminId}`, { method: 'DELETE', headers })).status).toBe(
      HTTP_STATUS.CONFLICT,
    );
    // deactivating a user ends its sessions
    const off = await app.request(`/api/users/${user.id}`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ active: false }),
    });
    expect(off.status).toBe(HTTP_STATUS.OK);
    expect((await app.request('/api/session', { headers: { cookie: vi.cookie } })).status).toBe(401);
    expect((await login('vi@example.com', 'viewer password')).res.status).toBe(HTTP_STATUS.UNAUTHORIZED);
  });

  it('a user’s token acts with at most the user’s role, follows a demotion, and expires; old tokens are admin service tokens', async () => {
    const op = await t.parts.identity.createUser({
      email: 'op@example.com',
      name: 'Op',
      role: 'editor',
      password: 'operator password',
    });
    const create = (body: unknown) =>
      app.request('/api/tokens', { method: 'POST', headers: asBearer, body: JSON.stringify(body) });
    const above = await create({ name: 'too much', userId: op.id, role: 'admin' });
    expect(above.status).toBe(HTTP_STATUS.BAD_REQUEST);
    expect(await above.json()).toMatchObject({ error: { path: 'role' } });
    const made = await create({ name: 'op token', userId: op.id, expiresInDays: 1 });
    const { token, info } = (await made.json()) as { token: string; info: { role: string; expiresAt: string } };
    expect(info.role).toBe('editor');
    const session = async () => app.request('/api/session', { headers: { authorization: `Bearer ${token}` } });
    expect(await (await session()).json()).toMatchObject({ role: 'editor', user: { email: 'op@example.com' } });
    await t.parts.identity.updateUser(op.id, { role: 'operator' });
    expect(await (await session()).json()).toMatchObject({ role: 'operator' });
    // an operator's token may start runs but not save flows
    const save = await app.request('/api/flows', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, ...json },
      body: '{}',
    });
    expect(save.status).toBe(HTTP_STATUS.FORBIDDEN);
    // tokens are listed with their owner and role; an operator sees only its own
    const mine = await app.request('/api/tokens', { headers: { authorization: `Bearer ${token}` } });
    expect(((await mine.json()) as { items: { name: string }[] }).items.map((i) => i.name)).toEqual(['op token']);
    clock = Date.parse(info.expiresAt);
    expect((await session()).status).toBe(HTTP_STATUS.UNAUTHORIZED);
    const service = await create({ name: 'ci', service: true, role: 'viewer' });
    expect(((await service.json()) as { info: unknown }).info).toMatchObject({ userId: null, role: 'viewer' });
    const legacy = await create({ name: 'like before' });
    expect(((await legacy.json()) as { info: unknown }).info).toMatchObject({ userId: null, role: 'admin' });
  });

  it('a viewer or operator is not shown even the end of a connection’s masked secret; an editor is', async () => {
    const made = await app.request('/api/connections', {
      method: 'POST',
      headers: asBearer,
      body: JSON.stringify({
        name: 'masked',
        baseUrl: 'http://127.0.0.1:9',
        auth: 'bearer',
        secret: 'a-long-secret-7890',
      }),
    });
    expect(made.status).toBe(HTTP_STATUS.CREATED);
    const shown: Record<string, unknown> = {};
    for (const role of ['viewer', 'operator', 'editor'] as const) {
      const { token } = await t.parts.tokens.create(`${role} service`, { role });
      const res = await app.request('/api/connections/masked', { headers: { authorization: `Bearer ${token}` } });
      const list = await app.request('/api/connections', { headers: { authorization: `Bearer ${token}` } });
      const listed = ((await list.json()) as { items: { name: string; secret: string | null }[] }).items;
      shown[role] = [
        ((await res.json()) as { secret: string }).secret,
        listed.find((c) => c.name === 'masked')?.secret,
      ];
    }
    expect(shown).toEqual({ viewer: ['••••', '••••'], operator: ['••••', '••••'], editor: ['••••7890', '••••7890'] });
  });

  it('the first admin is made once, with the setup token only', async () => {
    const fresh = await openTestSluice({ start: false });
    try {
      const freshApp = createApp(fresh.parts);
      const token = await fresh.parts.identity.setupToken();
      expect(token).toBeTruthy();
      const setup = (t: string) =>
        freshApp.request('/api/auth/setup', {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ token: t, email: 'first@example.com', name: 'First', password: 'first password' }),
        });
      expect((await setup('not the token')).status).toBe(HTTP_STATUS.FORBIDDEN);
      const made = await setup(token ?? '');
      expect(made.status).toBe(HTTP_STATUS.CREATED);
      expect(made.headers.get('set-cookie')).toMatch(/^sluice_session=/);
      expect(await made.json()).toMatchObject({ role: 'admin', user: { email: 'first@example.com' } });
      expect((await setup(token ?? '')).status).toBe(HTTP_STATUS.FORBIDDEN);
      expect(await fresh.parts.identity.setupToken()).toBeUndefined();
    } finally {
      await fresh.close();
    }
  });
});
