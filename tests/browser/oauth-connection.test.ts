import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHOTS, startEditor } from '../support/browser.js';
import { api, REPO_ROOT, type RunningServer } from '../support/server.js';

let server: RunningServer;
let page: Page;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ server, page, close } = await startEditor());
});

afterAll(() => close?.());

describe('a lookup on the canvas', () => {
  it('shows how many lookups its cache answered beside its counts', async () => {
    const document = JSON.parse(
      readFileSync(path.join(REPO_ROOT, 'examples', 'work-orders-with-assets.flow.json'), 'utf8'),
    ) as Record<string, unknown>;
    const { id: flowId } = await api<{ id: string }>(`${server.url}/api/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(document),
    });
    await page.reload();
    await page.getByTestId('flow-list-item').filter({ hasText: 'Work orders with their assets' }).click();
    await page.getByTestId('node-asset').waitFor();
    await page.getByTestId('run-button').click();
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 60_000 }).toBe('succeeded');
    const node = page.getByTestId('node-asset');
    // the figure the canvas shows is the run's own
    const runs = await api<{ items: { id: string }[] }>(`${server.url}/api/runs?flowId=${flowId}&limit=1`);
    const run = await api<{ nodeCounts: Record<string, { in: number; cacheHits?: number }> }>(
      `${server.url}/api/runs/${runs.items[0]?.id}`,
    );
    const hits = run.nodeCounts.asset?.cacheHits ?? 0;
    expect(hits).toBeGreaterThan(0);
    expect(hits).toBeLessThan(run.nodeCounts.asset?.in ?? 0);
    const cached = node.locator('[data-summary="cacheHits"]');
    await expect.poll(() => cached.textContent()).toBe(`${hits} cached`);
    await page.screenshot({ path: path.join(SHOTS, '22-lookup-cache-hits.png') });
  });
});

describe('an OAuth2 connection in the editor', () => {
  it('offers the OAuth2 fields, checks them before sending, stores the connection and tests it with a token', async () => {
    const { items } = await api<{ items: { name: string; baseUrl: string }[] }>(`${server.url}/api/connections`);
    const erp = items.find((c) => c.name === 'erp-sandbox')?.baseUrl ?? '';
    const tokenUrl = erp.replace(/\/erp$/, '/oauth/token');
    await page.getByTestId('connections-button').click();
    await page.getByTestId('connections-panel').waitFor();
    await page.getByTestId('connection-new').click();
    await page.getByTestId('connection-name').fill('erp-oauth');
    await page.getByTestId('connection-baseUrl').fill(erp);
    expect(await page.getByTestId('connection-oauth2').count()).toBe(0);
    await page.getByTestId('connection-auth').selectOption('oauth2');
    const oauth = page.getByTestId('connection-oauth2');
    await oauth.waitFor();
    // the refresh token is asked for only with its grant
    expect(await oauth.getByTestId('connection-oauth2-refreshToken').count()).toBe(0);
    await oauth.getByTestId('connection-oauth2-grant').selectOption('refresh_token');
    await oauth.getByTestId('connection-oauth2-refreshToken').waitFor();
    await oauth.getByTestId('connection-oauth2-grant').selectOption('client_credentials');

    await oauth.getByTestId('connection-oauth2-tokenUrl').fill('auth.example.com');
    await page.getByTestId('connection-save').click();
    await expect
      .poll(() => page.getByTestId('connection-field-error').allTextContents())
      .toEqual([
        'Must be an absolute http(s) URL.',
        'Give the client id the token endpoint knows.',
        'Client credentials need the client secret.',
      ]);
    await oauth.getByTestId('connection-oauth2-tokenUrl').fill(tokenUrl);
    await oauth.getByTestId('connection-oauth2-clientId').fill('sluice');
    await oauth.getByTestId('connection-oauth2-scopes').fill('erp.write');
    await oauth.getByTestId('connection-oauth2-clientAuth').selectOption('post');
    await page.getByTestId('connection-secret').fill('sandbox-client-secret');
    await page.getByTestId('connection-checkPath').fill('/api/erp/status');
    await page.screenshot({ path: path.join(SHOTS, '20-oauth2-connection-form.png') });
    await page.getByTestId('connection-save').click();

    const row = page.locator('[data-testid="connection-row"][data-name="erp-oauth"]');
    await row.waitFor();
    await expect.poll(() => row.getByTestId('connection-auth-shown').textContent()).toBe('OAuth2, client sluice');
    expect(await row.getByTestId('connection-token-url').textContent()).toBe(tokenUrl);
    await expect.poll(() => row.getByTestId('connection-secret-masked').textContent()).toBe('••••cret');
    const stored = await api<{ auth: string; oauth2: unknown }>(`${server.url}/api/connections/erp-oauth`);
    expect(stored).toMatchObject({
      auth: 'oauth2',
      oauth2: {
        grant: 'client_credentials',
        tokenUrl,
        clientId: 'sluice',
        scopes: 'erp.write',
        audience: null,
        clientAuth: 'post',
      },
    });
    expect(await page.content()).not.toContain('sandbox-client-secret');
    await row.getByTestId('connection-test').click();
    await expect.poll(() => row.getByTestId('connection-status').getAttribute('data-state')).toBe('ok');
    await page.screenshot({ path: path.join(SHOTS, '21-oauth2-connection.png') });
  });
});
