import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from './index.js';
import { OAUTH_DEFAULTS } from './oauth.js';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('the sandbox OAuth2 token endpoint', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ workOrders: 10, tokenTtlMs: 1000 });
  });
  afterAll(() => sandbox.close());

  const token = (form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${sandbox.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form),
    });
  const erpStatus = (accessToken: string) =>
    fetch(`${sandbox.url}/erp/api/erp/status`, { headers: { authorization: `Bearer ${accessToken}` } });

  it('issues short-lived tokens for client credentials, which both systems take until they expire', async () => {
    const res = await token(
      { grant_type: 'client_credentials', scope: 'erp.write' },
      { authorization: basic(OAUTH_DEFAULTS.clientId, OAUTH_DEFAULTS.clientSecret) },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number; scope: string };
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 1, scope: 'erp.write' });
    expect((await erpStatus(body.access_token)).status).toBe(200);
    const maintenance = await fetch(`${sandbox.url}/maintenance/api/eam/work-orders?limit=1`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(maintenance.status).toBe(200);
    // the static token still works beside them
    expect((await erpStatus('sandbox-erp-token')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    const rejected = sandbox.oauth.stats().rejectedAtSystems;
    expect((await erpStatus(body.access_token)).status).toBe(401);
    expect(sandbox.oauth.stats().rejectedAtSystems).toBe(rejected + 1);
  });

  it('refuses a wrong or revoked secret as invalid_client, and counts the token requests', async () => {
    const before = sandbox.oauth.stats().tokenRequests;
    const wrong = await token({
      grant_type: 'client_credentials',
      client_id: OAUTH_DEFAULTS.clientId,
      client_secret: 'not-it',
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_client' });
    sandbox.oauth.setSecret('other', 'other-secret');
    const ok = await token({ grant_type: 'client_credentials', client_id: 'other', client_secret: 'other-secret' });
    const issued = ((await ok.json()) as { access_token: string }).access_token;
    const revoke = await fetch(`${sandbox.url}/oauth/_sandbox/clients/other`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ revoked: true }),
    });
    expect(revoke.status).toBe(204);
    // its tokens go with its secret
    expect((await erpStatus(issued)).status).toBe(401);
    const again = await token({ grant_type: 'client_credentials', client_id: 'other', client_secret: 'other-secret' });
    expect(again.status).toBe(401);
    expect(sandbox.oauth.stats().tokenRequests - before).toBe(3);
  });

  it('rotates refresh tokens: each works once and comes back with a new one', async () => {
    const first = sandbox.oauth.issueRefreshToken(OAUTH_DEFAULTS.clientId, 'erp.read');
    const auth = { authorization: basic(OAUTH_DEFAULTS.clientId, OAUTH_DEFAULTS.clientSecret) };
    const res = await token({ grant_type: 'refresh_token', refresh_token: first }, auth);
    const body = (await res.json()) as { access_token: string; refresh_token: string; scope: string };
    expect(body.scope).toBe('erp.read');
    expect(body.refresh_token).not.toBe(first);
    expect((await erpStatus(body.access_token)).status).toBe(200);
    const reused = await token({ grant_type: 'refresh_token', refresh_token: first }, auth);
    expect(reused.status).toBe(400);
    expect(await reused.json()).toMatchObject({ error: 'invalid_grant' });
    expect(sandbox.oauth.liveRefreshTokens()).toContain(body.refresh_token);
  });
});
