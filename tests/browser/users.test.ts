import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, SHOTS } from '../support/browser.js';
import { api, type RunningServer, startServer } from '../support/server.js';

/**
 * Users and roles in the editor: signing in with e-mail and password (no API token in the browser),
 * a viewer who sees flows, runs and connections but none of the buttons that change them (and whom the
 * API refuses), and an admin who adds a user on the Users screen.
 */

let server: RunningServer;
let browser: Browser;
let page: Page;

const json = (body: unknown, method = 'POST') => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

beforeAll(async () => {
  server = await startServer();
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function signIn(email: string, password: string): Promise<void> {
  page = await openPage(browser);
  await page.goto(server.url);
  await page.getByTestId('login-form').waitFor();
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('account-button').waitFor();
}

describe('users and roles in the editor', () => {
  it('the first start’s one-time link makes the first admin, signed in; then the admin adds the others', async () => {
    const link = new RegExp(`${server.url}/#setup=\\S+`).exec(server.output())?.[0];
    expect(link).toBeTruthy();
    page = await openPage(browser);
    await page.goto(link ?? '');
    await page.getByTestId('login-form').waitFor();
    expect(await page.getByTestId('login-form').locator('h2').textContent()).toBe('Make the first admin account');
    await page.getByTestId('login-email').fill('admin@example.com');
    await page.getByTestId('login-name').fill('Ada Admin');
    await page.getByTestId('login-password').fill('admin password');
    await page.screenshot({ path: path.join(SHOTS, 'users-setup.png') });
    await page.getByTestId('login-submit').click();
    await page.getByTestId('users-button').waitFor();
    expect(await page.getByTestId('account-button').textContent()).toBe('Ada Admin · admin');
    // the link is gone from the address, and works once
    expect(page.url()).not.toContain('setup=');
    await page.close();
    const again = await fetch(`${server.url}/api/auth/setup`, {
      ...json({ token: link?.split('#setup=')[1], email: 'x@example.com', name: 'X', password: 'another password' }),
    });
    expect(again.status).toBe(403);
    // a viewer, made through the API with the automation token, as a deployment script would
    await api(
      `${server.url}/api/users`,
      json({ email: 'viewer@example.com', name: 'Vic Viewer', role: 'viewer', password: 'viewer password' }),
    );
  });

  it('a wrong password is refused on the login page', async () => {
    page = await openPage(browser);
    await page.goto(server.url);
    await page.getByTestId('login-email').fill('viewer@example.com');
    await page.getByTestId('login-password').fill('not the password');
    await page.getByTestId('login-submit').click();
    await expect.poll(() => page.getByTestId('login-error').textContent()).toMatch(/wrong e-mail or password/);
    await page.screenshot({ path: path.join(SHOTS, 'users-login.png') });
    await page.close();
  });

  it('a viewer sees the flow, its runs and the connections, but no Save, Run, test or connection editing; the API refuses them', async () => {
    await signIn('viewer@example.com', 'viewer password');
    expect(await page.getByTestId('account-button').textContent()).toBe('Vic Viewer · viewer');
    await page.getByTestId('flow-list-item').first().waitFor();
    await page.getByTestId('dock').waitFor();
    for (const id of [
      'save-button',
      'run-button',
      'test-button',
      'publish-button',
      'import-button',
      'new-flow-button',
      'delete-flow',
      'users-button',
    ]) {
      expect(await page.getByTestId(id).count(), id).toBe(0);
    }
    // the flow is there to read
    expect(await page.getByTestId('versions-button').count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'users-viewer-flow.png') });
    await page.getByTestId('connections-button').click();
    await page.getByTestId('connection-row').first().waitFor();
    for (const id of ['connection-new', 'connection-edit', 'connection-delete', 'connection-test']) {
      expect(await page.getByTestId(id).count(), id).toBe(0);
    }
    // not even the end of a secret
    expect(await page.getByTestId('connection-secret-masked').allTextContents()).toEqual(['••••', '••••']);
    await page.screenshot({ path: path.join(SHOTS, 'users-viewer-connections.png') });

    // the API refuses the viewer's session too, even with the right CSRF token
    const refused = await page.evaluate(async () => {
      const session = await (await fetch('/api/session')).json();
      const flows = await (await fetch('/api/flows')).json();
      const id = flows.items[0].id;
      const headers = { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken };
      const run = await fetch(`/api/flows/${id}/runs`, { method: 'POST', headers, body: '{}' });
      const save = await fetch(`/api/flows/${id}`, { method: 'PUT', headers, body: '{}' });
      const connection = await fetch('/api/connections', {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: 'x', baseUrl: 'http://127.0.0.1:9', auth: 'none' }),
      });
      return Promise.all([run, save, connection].map(async (r) => ({ status: r.status, body: await r.json() })));
    });
    expect(refused.map((r) => [r.status, r.body.error.code, r.body.error.permission])).toEqual([
      [403, 'forbidden', 'runs.control'],
      [403, 'forbidden', 'flows.write'],
      [403, 'forbidden', 'connections.write'],
    ]);
    await page.close();
  });

  it('an admin adds a user on the Users screen, who then signs in with that role', async () => {
    await signIn('admin@example.com', 'admin password');
    await page.getByTestId('users-button').click();
    const screen = page.getByTestId('users-screen');
    await screen.getByTestId('user-row').first().waitFor();
    await page.getByTestId('user-new-email').fill('olga@example.com');
    await page.getByTestId('user-new-name').fill('Olga Operator');
    await page.getByTestId('user-new-role').selectOption('operator');
    await page.getByTestId('user-new-password').fill('operator password');
    await page.getByTestId('user-new-submit').click();
    await expect
      .poll(() => page.getByTestId('user-new-notice').textContent())
      .toMatch(/olga@example.com added as operator/);
    const row = screen.locator('[data-testid="user-row"][data-email="olga@example.com"]');
    await row.waitFor();
    expect(await row.getByTestId('user-role').inputValue()).toBe('operator');
    await page.getByTestId('account-button').click();
    await page.getByTestId('sessions').getByTestId('session-row').first().waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'users-admin.png') });

    // an API token made in the account menu: shown once, it works, it is listed; revoked, it no longer works
    const tokens = page.getByTestId('api-tokens');
    await tokens.getByTestId('api-token-name').fill('ci-nightly');
    await tokens.getByTestId('api-token-role').selectOption('operator');
    await tokens.getByTestId('api-token-days').fill('30');
    await tokens.getByTestId('api-token-create').click();
    const secret = await tokens.getByTestId('api-token-value').inputValue();
    expect(secret.length).toBeGreaterThan(20);
    const bearer = { headers: { authorization: `Bearer ${secret}` } };
    const session = (await (await fetch(`${server.url}/api/session`, bearer)).json()) as {
      role: string;
      actor: { name: string };
    };
    expect(session).toMatchObject({ role: 'operator', actor: { name: 'ci-nightly' } });
    const tokenRow = tokens.locator('[data-testid="api-token-row"][data-name="ci-nightly"]');
    await tokenRow.waitFor();
    expect(await tokenRow.textContent()).toMatch(/ci-nightly .+… · operator.*never used · expires/);
    await page.screenshot({ path: path.join(SHOTS, 'users-api-token.png') });
    await tokenRow.getByTestId('api-token-revoke').click();
    await tokenRow.waitFor({ state: 'detached' });
    expect((await fetch(`${server.url}/api/session`, bearer)).status).toBe(401);
    const users = await api<{ items: { email: string; role: string }[] }>(`${server.url}/api/users`);
    expect(users.items.find((u) => u.email === 'olga@example.com')?.role).toBe('operator');
    await page.getByTestId('sign-out').click();
    await page.getByTestId('login-form').waitFor();
    await page.close();

    // the new operator may run flows but not change them
    await signIn('olga@example.com', 'operator password');
    await page.getByTestId('run-button').waitFor();
    expect(await page.getByTestId('save-button').count()).toBe(0);
    await page.close();
  });
});
