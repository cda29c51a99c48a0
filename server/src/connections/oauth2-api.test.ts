import type { ConnectionView, RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestSluice, type TestSluice } from '../http/test-support.js';
import type { ErpStats } from '../sandbox/erp.js';
import { OAUTH_DEFAULTS, type OAuthStats } from '../sandbox/oauth.js';

let t: TestSluice;
const send = (method: string, p: string, value?: unknown) =>
  t.app.request(p, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(value === undefined ? {} : { body: JSON.stringify(value) }),
  });
const sandboxJson = async <T>(p: string, init?: RequestInit) =>
  (await fetch(`${t.parts.sandbox.url}${p}`, init)).json() as T;

beforeAll(async () => {
  t = await openTestSluice({ workOrders: 20 });
});
afterAll(() => t.close());

/** A flow writing `n` work orders to the ERP through `connection`. */
async function writeFlow(connection: string, n: number): Promise<string> {
  const records = Array.from({ length: n }, (_, i) => ({
    externalKey: `${connection}-${i}`,
    title: `Order ${i}`,
    assetKey: 'AS-PUMP-0001',
  }));
  const flow = {
    format: 2,
    name: `Write through ${connection}`,
    nodes: [
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records', params: { records, keyField: 'externalKey' } },
      { id: 'write', type: 'http-write', params: { connection, url: '/api/erp/work-orders' } },
    ],
    edges: [
      { source: 'start', target: 'src' },
      { source: 'src', target: 'write' },
    ],
  };
  const res = await send('POST', '/api/flows', flow);
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

async function runFlow(flowId: string): Promise<RunDetail> {
  const { runId } = (await (await send('POST', `/api/flows/${flowId}/runs`)).json()) as { runId: string };
  await t.parts.runner.wait(runId);
  return (await (await send('GET', `/api/runs/${runId}`)).json()) as RunDetail;
}

describe('OAuth2 connections through the API', () => {
  it('refuses incomplete OAuth2 settings with a 400 naming the field', async () => {
    const base = { name: 'bad-oauth', baseUrl: `${t.parts.sandbox.url}/erp`, auth: 'oauth2' };
    const cases: [Record<string, unknown>, string][] = [
      [base, 'oauth2'],
      [{ ...base, oauth2: { tokenUrl: `${t.parts.sandbox.url}/oauth/token`, clientId: 'sluice' } }, 'secret'],
      [{ ...base, oauth2: { grant: 'refresh_token', tokenUrl: 'http://x.test/t', clientId: 'c' } }, 'refreshToken'],
      [{ ...base, oauth2: { tokenUrl: 'not a url', clientId: 'c' }, secret: 's' }, 'oauth2.tokenUrl'],
      [{ ...base, auth: 'bearer', secret: 's', refreshToken: 'r' }, 'refreshToken'],
      [{ ...base, auth: 'bearer', secret: 's', oauth2: { tokenUrl: 'http://x.test/t', clientId: 'c' } }, 'oauth2'],
    ];
    for (const [body, field] of cases) {
      const res = await send('POST', '/api/connections', body);
      expect(res.status, field).toBe(400);
      const { error } = (await res.json()) as { error: { path?: string; message: string } };
      expect(error.path ?? error.message, field).toContain(field);
    }
  });

  it('writes with tokens from the token endpoint, one for the whole run, and fails the run at the pre-check once the secret is revoked', async () => {
    const clientId = 'sluice-api-test';
    await fetch(`${t.parts.sandbox.url}/oauth/_sandbox/clients/${clientId}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ secret: 'api-test-secret' }),
    });
    const created = await send('POST', '/api/connections', {
      name: 'erp-oauth',
      baseUrl: `${t.parts.sandbox.url}/erp`,
      auth: 'oauth2',
      oauth2: { tokenUrl: `${t.parts.sandbox.url}/oauth/token`, clientId, scopes: 'erp.write', audience: 'erp' },
      secret: 'api-test-secret',
      checkPath: '/api/erp/status',
    });
    expect(created.status).toBe(201);
    const view = (await created.json()) as ConnectionView;
    expect(view).toMatchObject({
      auth: 'oauth2',
      secret: '••••cret',
      refreshToken: null,
      oauth2: { grant: 'client_credentials', clientId, scopes: 'erp.write', audience: 'erp', clientAuth: 'basic' },
    });

    const before = await sandboxJson<OAuthStats>('/oauth/_sandbox/stats');
    const flowId = await writeFlow('erp-oauth', 25);
    const ok = await runFlow(flowId);
    expect(ok.status).toBe('succeeded');
    expect(ok.counts).toMatchObject({ read: 25, succeeded: 25, failed: 0 });
    const stats = await sandboxJson<ErpStats>('/erp/_sandbox/stats');
    expect(Object.keys(stats.writes).filter((k) => k.startsWith('erp-oauth-'))).toHaveLength(25);
    const after = await sandboxJson<OAuthStats>('/oauth/_sandbox/stats');
    // the pre-run check and the 25 writes share one token
    expect(after.tokenRequests - before.tokenRequests).toBe(1);

    await fetch(`${t.parts.sandbox.url}/oauth/_sandbox/clients/${clientId}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ revoked: true }),
    });
    const refused = await runFlow(flowId);
    expect(refused.status).toBe('failed');
    expect(refused.counts.read).toBe(0);
    expect(refused.error).toMatch(
      /^connection "erp-oauth": the token endpoint .* refused the credentials \(HTTP 401, invalid_client/,
    );
    // the status check says the same
    const checked = await send('POST', '/api/connections/erp-oauth/check');
    expect(((await checked.json()) as ConnectionView['status'])?.state).toBe('unauthorized');

    // changed to a bearer token, its OAuth2 settings go
    const changed = await send('PATCH', '/api/connections/erp-oauth', { auth: 'bearer', secret: 'sandbox-erp-token' });
    expect(changed.status).toBe(200);
    expect((await changed.json()) as ConnectionView).toMatchObject({
      auth: 'bearer',
      oauth2: null,
      refreshToken: null,
    });
  });

  it('keeps a rotated refresh token, sealed, in place of the one it was given', async () => {
    // the sandbox hands out refresh tokens to tests only through its handle: this process runs it
    const sandbox = t.parts.sandbox as unknown as { oauth: { issueRefreshToken(id: string): string } };
    const refreshToken = sandbox.oauth.issueRefreshToken(OAUTH_DEFAULTS.clientId);
    const created = await send('POST', '/api/connections', {
      name: 'eam-refresh',
      baseUrl: `${t.parts.sandbox.url}/maintenance`,
      auth: 'oauth2',
      oauth2: {
        grant: 'refresh_token',
        tokenUrl: `${t.parts.sandbox.url}/oauth/token`,
        clientId: OAUTH_DEFAULTS.clientId,
      },
      secret: OAUTH_DEFAULTS.clientSecret,
      refreshToken,
      checkPath: '/api/eam/work-orders?limit=1',
    });
    expect(created.status).toBe(201);
    expect(((await created.json()) as ConnectionView).refreshToken).toBe(`••••${refreshToken.slice(-4)}`);
    const checked = await send('POST', '/api/connections/eam-refresh/check');
    expect(((await checked.json()) as ConnectionView['status'])?.state).toBe('ok');
    const row = await t.parts.storage.connections.find('eam-refresh');
    expect(row?.refreshToken).toBeTruthy();
    expect(row?.refreshToken).not.toContain(refreshToken.slice(4)); // sealed
    const view = (await (await send('GET', '/api/connections/eam-refresh')).json()) as ConnectionView;
    expect(view.refreshToken).not.toBe(`••••${refreshToken.slice(-4)}`);
  });
});
