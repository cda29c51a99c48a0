import { AuthRefused, HttpFailure } from '@sluice/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../sandbox/index.js';
import { OAUTH_DEFAULTS } from '../sandbox/oauth.js';
import { OAuth2TokenSource } from './oauth2.js';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ workOrders: 10, tokenTtlMs: 20_000 });
});
afterAll(() => sandbox.close());

const settings = () => ({
  grant: 'client_credentials' as const,
  tokenUrl: `${sandbox.url}/oauth/token`,
  clientId: OAUTH_DEFAULTS.clientId,
  scopes: 'erp.write',
  clientAuth: 'basic' as const,
});

describe('OAuth2 token source', () => {
  it('asks the token endpoint once per token lifetime, renewing a tenth of it ahead of expiry', async () => {
    let now = 1_000_000;
    const source = new OAuth2TokenSource({
      name: 'erp-oauth',
      settings: settings(),
      clientSecret: OAUTH_DEFAULTS.clientSecret,
      saveRefreshToken: async () => {},
      now: () => now,
    });
    // requests needing a token at once share one token request
    const first = await Promise.all([source.headers(), source.headers(), source.headers()]);
    expect(source.requests).toBe(1);
    expect(new Set(first.map((h) => h.authorization)).size).toBe(1);
    const status = await fetch(`${sandbox.url}/erp/api/erp/status`, { headers: first[0] });
    expect(status.status).toBe(200);
    now += 17_999; // 20 s tokens are renewed 2 s ahead
    expect(await source.headers()).toEqual(first[0]);
    expect(source.requests).toBe(1);
    now += 1;
    const second = await source.headers();
    expect(second).not.toEqual(first[0]);
    expect(source.requests).toBe(2);
    // a 401 to the current token drops it; one to a token already replaced changes nothing
    source.invalidate(first[0] as Record<string, string>);
    expect(await source.headers()).toEqual(second);
    source.invalidate(second);
    await source.headers();
    expect(source.requests).toBe(3);
  });

  it('sends the client id and secret in the body when told to (client_secret_post)', async () => {
    const source = new OAuth2TokenSource({
      name: 'erp-oauth',
      settings: { ...settings(), clientAuth: 'post' },
      clientSecret: OAUTH_DEFAULTS.clientSecret,
      saveRefreshToken: async () => {},
    });
    const sent: string[] = [];
    const spying = new OAuth2TokenSource({
      name: 'erp-oauth',
      settings: { ...settings(), clientAuth: 'post' },
      clientSecret: OAUTH_DEFAULTS.clientSecret,
      saveRefreshToken: async () => {},
      fetch: async (url, init) => {
        sent.push(String(init?.body));
        return fetch(url, init);
      },
    });
    const headers = await source.headers();
    expect((await fetch(`${sandbox.url}/erp/api/erp/status`, { headers })).status).toBe(200);
    await spying.headers();
    expect(sent[0]).toContain(`client_secret=${OAUTH_DEFAULTS.clientSecret}`);
  });

  it('says a wrong secret is refused (AuthRefused), and an endpoint that cannot answer is a failure to reach it', async () => {
    const wrong = new OAuth2TokenSource({
      name: 'erp-oauth',
      settings: settings(),
      clientSecret: 'wrong',
      saveRefreshToken: async () => {},
    });
    const refused = await wrong.headers().catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(AuthRefused);
    expect((refused as Error).message).toMatch(
      /^the token endpoint of connection "erp-oauth" refused the credentials \(HTTP 401, invalid_client/,
    );
    const nowhere = new OAuth2TokenSource({
      name: 'erp-oauth',
      settings: { ...settings(), tokenUrl: 'http://127.0.0.1:1/oauth/token' },
      clientSecret: 'x',
      saveRefreshToken: async () => {},
    });
    const failure = await nowhere.headers().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(HttpFailure);
    expect((failure as HttpFailure).code).toBe('network');
    // a run that stops while a token is on its way stops waiting for it
    const stopped = new AbortController();
    stopped.abort();
    const aborted = await nowhere.headers(stopped.signal).catch((err: unknown) => err);
    expect((aborted as HttpFailure).code).toBe('aborted');
  });

  it('uses a refresh token, and saves the one the endpoint rotates to before using the new access token', async () => {
    const saved: string[] = [];
    let now = 0;
    const first = sandbox.oauth.issueRefreshToken(OAUTH_DEFAULTS.clientId);
    const source = new OAuth2TokenSource({
      name: 'erp-refresh',
      settings: { ...settings(), grant: 'refresh_token' },
      clientSecret: OAUTH_DEFAULTS.clientSecret,
      refreshToken: first,
      saveRefreshToken: async (token) => {
        saved.push(token);
      },
      now: () => now,
    });
    const h1 = await source.headers();
    expect(saved).toHaveLength(1);
    expect(saved[0]).not.toBe(first);
    expect(sandbox.oauth.liveRefreshTokens()).toContain(saved[0]);
    expect(sandbox.oauth.liveRefreshTokens()).not.toContain(first);
    now += 20_000;
    const h2 = await source.headers();
    expect(h2).not.toEqual(h1);
    // the rotated token was used (the first one no longer works) and rotated again
    expect(saved).toHaveLength(2);
    const status = await fetch(`${sandbox.url}/maintenance/api/eam/work-orders?limit=1`, { headers: h2 });
    expect(status.status).toBe(200);
  });
});
