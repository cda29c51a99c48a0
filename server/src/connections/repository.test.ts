import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openTestSluice, type TestSluice } from '../http/test-support.js';
import { SANDBOX_DEFAULTS } from '../sandbox/index.js';
import { sqliteClient } from '../storage/sqlite/index.js';
import { ConnectionRepository } from './repository.js';
import { SecretBox } from './secrets.js';

let t: TestSluice;
const SECRET = SANDBOX_DEFAULTS.maintenanceToken;
const send = (method: string, p: string, value?: unknown) =>
  t.app.request(p, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(value === undefined ? {} : { body: JSON.stringify(value) }),
  });

beforeAll(async () => {
  t = await openTestSluice({ workOrders: 30 });
});
afterAll(() => t.close());

describe('connections', () => {
  it('stores secrets encrypted, returns them masked only, and never writes them to logs or runs', async () => {
    const log = vi.spyOn(console, 'log');
    const error = vi.spyOn(console, 'error');
    const created = await send('POST', '/api/connections', {
      name: 'eam',
      baseUrl: `${t.parts.sandbox.url}/maintenance`,
      auth: 'bearer',
      secret: SECRET,
      checkPath: '/api/eam/work-orders?limit=1',
    });
    expect(created.status).toBe(201);
    const view = (await created.json()) as Record<string, unknown>;
    expect(view).toMatchObject({ name: 'eam', auth: 'bearer', secret: `••••${SECRET.slice(-4)}`, builtIn: false });

    const flow = {
      format: 1,
      name: 'Through a stored connection',
      nodes: [
        { id: 'start', type: 'manual' },
        {
          id: 'src',
          type: 'http-source',
          params: { connection: 'eam', url: '/api/eam/work-orders', keyField: 'key', pagination: { type: 'token' } },
        },
        { id: 'out', type: 'collect' },
      ],
      edges: [
        { source: 'start', target: 'src' },
        { source: 'src', target: 'out' },
      ],
    };
    const { id } = (await (await send('POST', '/api/flows', flow)).json()) as { id: string };
    const { runId } = (await (await send('POST', `/api/flows/${id}/runs`)).json()) as { runId: string };
    expect((await t.parts.runner.wait(runId)).counts).toMatchObject({ read: 30, succeeded: 30 });

    // the secret is nowhere in the database file, the API's answers, the run or the logs
    sqliteClient(t.parts.storage).$client.pragma('wal_checkpoint(TRUNCATE)');
    const file = readFileSync(path.join(t.dir, 'sluice.sqlite'));
    expect(file.includes(Buffer.from(SECRET))).toBe(false);
    const answers = [
      await (await t.app.request('/api/connections')).text(),
      await (await t.app.request('/api/connections/eam')).text(),
      await (await t.app.request(`/api/runs/${runId}`)).text(),
      await (await t.app.request(`/api/runs/${runId}/collected?limit=100`)).text(),
    ].join('\n');
    expect(answers).not.toContain(SECRET);
    const logged = [...log.mock.calls, ...error.mock.calls].flat().map(String).join('\n');
    expect(logged).not.toContain(SECRET);
    log.mockRestore();
    error.mockRestore();
  });

  it('checks a connection against its system and keeps the last status; a wrong secret reads unauthorized', async () => {
    const ok = await send('POST', '/api/connections/eam/check');
    expect(await ok.json()).toMatchObject({ state: 'ok', message: expect.stringContaining('HTTP 200') });
    expect((await send('PATCH', '/api/connections/eam', { secret: 'wrong-token' })).status).toBe(200);
    // a patch that names no auth keeps it (it once reset it to none, which a wrong token hid)
    expect(((await (await t.app.request('/api/connections/eam')).json()) as { auth: string }).auth).toBe('bearer');
    const refused = await send('POST', '/api/connections/eam/check');
    expect(await refused.json()).toMatchObject({ state: 'unauthorized', message: expect.stringContaining('HTTP 401') });
    const stored = (await (await t.app.request('/api/connections/eam')).json()) as { status: { state: string } };
    expect(stored.status.state).toBe('unauthorized');
    await send('PATCH', '/api/connections/eam', { baseUrl: 'http://127.0.0.1:9' });
    const down = (await (await send('POST', '/api/connections/eam/check')).json()) as { state: string };
    expect(down.state).toBe('error');
  });

  it('validates input, naming the field, and refuses to change built-in connections', async () => {
    const cases: [unknown, string][] = [
      [{ name: 'Bad Name', baseUrl: 'http://x.test' }, 'name'],
      [{ name: 'ok', baseUrl: 'ftp://x.test' }, 'baseUrl'],
      [{ name: 'ok', baseUrl: 'http://x.test', auth: 'bearer' }, 'secret'],
      [{ name: 'ok', baseUrl: 'http://x.test', auth: 'basic', secret: 'p' }, 'username'],
      [{ name: 'ok', baseUrl: 'http://x.test', auth: 'api-key', secret: 'k' }, 'headerName'],
      [{ name: 'ok', baseUrl: 'http://x.test', extra: 1 }, ''],
      [{ name: 'ok', baseUrl: 'http://x.test', limits: { maxPerSecond: 0 } }, 'limits.maxPerSecond'],
      [{ name: 'ok', baseUrl: 'http://x.test', limits: { maxPerSecond: 10_001 } }, 'limits.maxPerSecond'],
      [{ name: 'ok', baseUrl: 'http://x.test', limits: { maxConcurrent: 0 } }, 'limits.maxConcurrent'],
      [{ name: 'ok', baseUrl: 'http://x.test', limits: { maxConcurrent: 1001 } }, 'limits.maxConcurrent'],
      [{ name: 'ok', baseUrl: 'http://x.test', limits: { maxConcurrent: 2.5 } }, 'limits.maxConcurrent'],
      [{ name: 'ok', baseUrl: 'http://x.test', limits: { perMinute: 5 } }, 'limits'],
    ];
    for (const [input, field] of cases) {
      const res = await send('POST', '/api/connections', input);
      expect(res.status, JSON.stringify(input)).toBe(400);
      const err = ((await res.json()) as { error: { path?: string; message: string } }).error;
      if (field) expect(err.path).toBe(field);
    }
    expect((await send('POST', '/api/connections', { name: 'eam', baseUrl: 'http://x.test' })).status).toBe(409);
    expect((await send('PATCH', '/api/connections/eam', { limits: { maxPerSecond: -1 } })).status).toBe(400);
    expect((await send('PATCH', '/api/connections/erp-sandbox', { baseUrl: 'http://x.test' })).status).toBe(409);
    expect((await send('DELETE', '/api/connections/nope')).status).toBe(404);
    const names = ((await (await t.app.request('/api/connections')).json()) as { items: { name: string }[] }).items;
    expect(names.map((n) => n.name)).toEqual(['maintenance-sandbox', 'erp-sandbox', 'eam']);
  });

  it('stores limits: a patch with limits replaces both ({} removes them), one without keeps them; runs get them resolved', async () => {
    type View = { limits: { maxConcurrent: number | null; maxPerSecond: number | null; adaptive: boolean } };
    const view = async (res: Response | Promise<Response>) => {
      const r = await res;
      expect(r.status).toBeLessThan(300);
      return ((await r.json()) as View).limits;
    };
    const { connections } = t.parts;
    const resolved = async () => (await connections.resolve('limited'))?.limits;

    // none given: nulls in the view, none resolved
    expect(await view(send('POST', '/api/connections', { name: 'limited', baseUrl: 'http://l.test' }))).toEqual({
      maxConcurrent: null,
      maxPerSecond: null,
      adaptive: false,
    });
    expect(await resolved()).toBeUndefined();

    expect(
      await view(send('PATCH', '/api/connections/limited', { limits: { maxConcurrent: 3, maxPerSecond: 2.5 } })),
    ).toEqual({ maxConcurrent: 3, maxPerSecond: 2.5, adaptive: false });
    // the resolved connection is loaded afresh after a change
    expect(await resolved()).toEqual({ maxConcurrent: 3, maxPerSecond: 2.5 });
    // a patch without limits keeps them
    expect(await view(send('PATCH', '/api/connections/limited', { checkPath: '/ping' }))).toEqual({
      maxConcurrent: 3,
      maxPerSecond: 2.5,
      adaptive: false,
    });
    // a patch with limits replaces both: the one left out goes
    expect(await view(send('PATCH', '/api/connections/limited', { limits: { maxPerSecond: 0.5 } }))).toEqual({
      maxConcurrent: null,
      maxPerSecond: 0.5,
      adaptive: false,
    });
    expect(await resolved()).toEqual({ maxPerSecond: 0.5 });
    expect(await view(t.app.request('/api/connections/limited'))).toEqual({
      maxConcurrent: null,
      maxPerSecond: 0.5,
      adaptive: false,
    });
    expect(await view(send('PATCH', '/api/connections/limited', { limits: {} }))).toEqual({
      maxConcurrent: null,
      maxPerSecond: null,
      adaptive: false,
    });
    expect(await resolved()).toBeUndefined();
    // adaptive pacing alone: stored, shown, and resolved for the runs
    expect(await view(send('PATCH', '/api/connections/limited', { limits: { adaptive: true } }))).toEqual({
      maxConcurrent: null,
      maxPerSecond: null,
      adaptive: true,
    });
    expect(await resolved()).toEqual({ adaptive: true });
    expect(await view(send('PATCH', '/api/connections/limited', { limits: {} }))).toMatchObject({ adaptive: false });

    // given on create; the list shows them, and built-in connections without limits show nulls
    await send('DELETE', '/api/connections/limited');
    expect(
      await view(
        send('POST', '/api/connections', { name: 'limited', baseUrl: 'http://l.test', limits: { maxConcurrent: 1 } }),
      ),
    ).toEqual({ maxConcurrent: 1, maxPerSecond: null, adaptive: false });
    expect(await resolved()).toEqual({ maxConcurrent: 1 });
    const { items } = (await (await t.app.request('/api/connections')).json()) as {
      items: (View & { name: string })[];
    };
    expect(items.find((c) => c.name === 'limited')?.limits).toEqual({
      maxConcurrent: 1,
      maxPerSecond: null,
      adaptive: false,
    });
    expect(items.find((c) => c.name === 'erp-sandbox')?.limits).toEqual({
      maxConcurrent: null,
      maxPerSecond: null,
      adaptive: false,
    });
    await send('DELETE', '/api/connections/limited');
  });

  it('shows the limits a built-in connection defines, and nulls for one that defines none', async () => {
    const repo = new ConnectionRepository(t.parts.storage.connections, new SecretBox(randomBytes(32)), [
      { name: 'paced-sandbox', baseUrl: 'http://p.test', headers: {}, limits: { maxPerSecond: 5 } },
      { name: 'free-sandbox', baseUrl: 'http://f.test', headers: {} },
    ]);
    expect((await repo.get('paced-sandbox')).limits).toEqual({ maxConcurrent: null, maxPerSecond: 5, adaptive: false });
    expect((await repo.get('free-sandbox')).limits).toEqual({
      maxConcurrent: null,
      maxPerSecond: null,
      adaptive: false,
    });
    expect((await repo.resolve('paced-sandbox'))?.limits).toEqual({ maxPerSecond: 5 });
  });

  it('sends basic and API-key credentials as the system expects', async () => {
    await t.parts.connections.create({
      name: 'basic',
      baseUrl: 'http://b.test',
      auth: 'basic',
      username: 'u',
      secret: 'p',
    });
    await t.parts.connections.create({
      name: 'keyed',
      baseUrl: 'http://k.test',
      auth: 'api-key',
      headerName: 'X-Api-Key',
      secret: 'k-123',
    });
    expect((await t.parts.connections.resolve('basic'))?.headers).toEqual({
      authorization: `Basic ${Buffer.from('u:p').toString('base64')}`,
    });
    expect((await t.parts.connections.resolve('keyed'))?.headers).toEqual({ 'x-api-key': 'k-123' });
    await t.parts.connections.delete('keyed');
    expect(await t.parts.connections.resolve('keyed')).toBeUndefined();
  });

  it('a run whose source is refused (wrong secret) fails, saying the system answered 401', async () => {
    await send('PATCH', '/api/connections/eam', { baseUrl: `${t.parts.sandbox.url}/maintenance`, secret: 'wrong' });
    const { items } = (await (await t.app.request('/api/flows')).json()) as { items: { id: string; name: string }[] };
    const flow = items.find((f) => f.name === 'Through a stored connection');
    const { runId } = (await (await send('POST', `/api/flows/${flow?.id}/runs`)).json()) as { runId: string };
    await t.parts.runner.wait(runId);
    const run = (await (await t.app.request(`/api/runs/${runId}`)).json()) as RunDetail;
    expect(run.status).toBe('failed');
    expect(run.error).toContain('401');
  });

  it("loads a run's connections afresh before it starts: one changed by another process is picked up by the next run", async () => {
    const { connections } = t.parts;
    await connections.create({ name: 'moving', baseUrl: 'http://old.test', auth: 'none' });
    const lookup = connections.connectors(t.parts.http);
    await connections.preload(['moving', 'nowhere']);
    expect(lookup.connection('moving')?.baseUrl).toBe('http://old.test');
    expect(lookup.connection('nowhere')).toBeUndefined();
    sqliteClient(t.parts.storage)
      .$client.prepare('UPDATE connections SET base_url = ? WHERE name = ?')
      .run('http://new.test', 'moving');
    // looked up synchronously, as the engine does: what was loaded, until the next run loads it again
    expect(lookup.connection('moving')?.baseUrl).toBe('http://old.test');
    await connections.preload(['moving']);
    expect(lookup.connection('moving')?.baseUrl).toBe('http://new.test');
    await connections.delete('moving');
  });
});

describe('database connections', () => {
  it('take a postgres:// or mysql:// URL with basic auth, naming the field at fault otherwise', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ name: 'db', baseUrl: 'postgres://db.test/', auth: 'basic', username: 'u' }, 'baseUrl', /database name/],
      [
        { name: 'db', baseUrl: 'postgres://u:p@db.test/x', auth: 'basic', username: 'u' },
        'baseUrl',
        /username and secret/,
      ],
      [{ name: 'db', baseUrl: 'mysql://db.test/x?tls=yes', auth: 'basic', username: 'u' }, 'baseUrl', /tls must be/],
      [{ name: 'db', baseUrl: 'mysql://db.test/x', auth: 'bearer', secret: 's' }, 'auth', /takes basic/],
      [{ name: 'db', baseUrl: 'mysql://db.test/x', auth: 'basic' }, 'username', /required/],
      [
        { name: 'db', baseUrl: 'oracle://db.test/x', auth: 'basic', username: 'u' },
        'baseUrl',
        /postgres:\/\/ or mysql:\/\//,
      ],
    ];
    for (const [input, field, message] of cases) {
      const res = await send('POST', '/api/connections', input);
      expect(res.status, JSON.stringify(input)).toBe(400);
      const err = ((await res.json()) as { error: { path?: string; message: string } }).error;
      expect(err.path, JSON.stringify(input)).toBe(field);
      expect(err.message).toMatch(message);
    }
  });

  it('are checked with SELECT 1: ok on a database that answers, error with the reason on one that does not', async () => {
    const server = new URL(process.env.SLUICE_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres');
    const created = await send('POST', '/api/connections', {
      name: 'warehouse',
      baseUrl: `postgres://${server.host}${server.pathname}`,
      auth: 'basic',
      username: decodeURIComponent(server.username) || 'postgres',
      ...(server.password ? { secret: decodeURIComponent(server.password) } : {}),
    });
    expect(created.status).toBe(201);
    const ok = await send('POST', '/api/connections/warehouse/check');
    expect(await ok.json()).toMatchObject({ state: 'ok', message: expect.stringContaining('SELECT 1 answered') });
    await send('POST', '/api/connections', {
      name: 'nowhere',
      baseUrl: 'mysql://127.0.0.1:1/shop',
      auth: 'basic',
      username: 'root',
      secret: 'pw',
    });
    const down = await send('POST', '/api/connections/nowhere/check');
    expect(await down.json()).toMatchObject({ state: 'error', message: expect.stringMatching(/ECONNREFUSED/) });
    const view = (await (await t.app.request('/api/connections/nowhere')).json()) as { secret: string };
    expect(view.secret).toBe('••••'); // the password is sealed; a short one is not even partly shown
  });
});
