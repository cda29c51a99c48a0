import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestSluice, TEST_TOKEN, type TestSluice } from '../http/test-support.js';
import { sqliteClient } from '../storage/sqlite/index.js';
import { openDatabase } from '../storage/sqlite/open.js';
import { SqliteTokens } from '../storage/sqlite/tokens.js';
import { TokenStore } from './tokens.js';

let t: TestSluice;

beforeAll(async () => {
  t = await openTestSluice({ start: false });
});
afterAll(() => t.close());

describe('API tokens', () => {
  it('stores only a hash: the token is nowhere in the database', async () => {
    const store = new TokenStore(t.parts.storage.tokens, undefined);
    const { token, info } = await store.create('laptop');
    expect(token).toMatch(/^slc_[\w-]{32}$/);
    expect(info.prefix).toBe(token.slice(0, 8));
    const rows = JSON.stringify(sqliteClient(t.parts.storage).$client.prepare('SELECT * FROM api_tokens').all());
    expect(rows).not.toContain(token);
    expect(rows).not.toContain(token.slice(8));
    expect(await store.verify(token)).toBe(true);
    expect(await store.verify(`${token}x`)).toBe(false);
    expect(await store.verify('')).toBe(false);
    expect(await store.revoke(info.id)).toBe(true);
    expect(await store.verify(token)).toBe(false);
  });

  it('makes a first-start token only when none exists and none is given in the environment', async () => {
    const db = openDatabase(':memory:');
    const rows = new SqliteTokens(db);
    expect(await new TokenStore(rows, 'from-env').firstStartToken()).toBeUndefined();
    const store = new TokenStore(rows, undefined);
    const first = await store.firstStartToken();
    expect(first).toMatch(/^slc_/);
    expect(await store.verify(first as string)).toBe(true);
    expect(await store.firstStartToken()).toBeUndefined();
    expect((await store.list()).map((x) => x.name)).toEqual(['first start']);
    db.$client.close();
  });

  it('guards every /api route but health with 401 JSON naming the header', async () => {
    const health = await t.raw.request('/api/health');
    expect(health.status).toBe(200);
    for (const [method, path] of [
      ['GET', '/api/flows'],
      ['POST', '/api/flows'],
      ['GET', '/api/runs/1'],
      ['GET', '/api/openapi.json'],
      ['GET', '/api/connections'],
      ['DELETE', '/api/tokens/1'],
      ['GET', '/api/no-such-route'],
    ] as const) {
      const res = await t.raw.request(path, { method });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
      const body = (await res.json()) as { error: { code: string; message: string; path: string } };
      expect(body.error).toMatchObject({ code: 'unauthorized', path: 'Authorization' });
      expect(body.error.message).toContain('Bearer');
    }
    const wrong = await t.raw.request('/api/flows', { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { message: string } }).error.message).toContain('not valid');
    const basic = await t.raw.request('/api/flows', { headers: { authorization: `Basic ${TEST_TOKEN}` } });
    expect(basic.status).toBe(401);
    const ok = await t.raw.request('/api/flows', { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    expect(ok.status).toBe(200);
  });

  it('creates and revokes tokens through the API; the plain token is returned once', async () => {
    const res = await t.app.request('/api/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ci' }),
    });
    expect(res.status).toBe(201);
    const { token, info } = (await res.json()) as { token: string; info: { id: number } };
    expect((await t.raw.request('/api/flows', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const list = await (await t.app.request('/api/tokens')).text();
    expect(list).toContain('"ci"');
    expect(list).not.toContain(token);
    expect((await t.app.request(`/api/tokens/${info.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await t.raw.request('/api/flows', { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    const noName = await t.app.request('/api/tokens', { method: 'POST', body: '{"name":" "}' });
    expect(noName.status).toBe(400);
    expect(((await noName.json()) as { error: { path: string } }).error.path).toBe('name');
  });
});
