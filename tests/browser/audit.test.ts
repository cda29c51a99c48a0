import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHOTS, startEditor } from '../support/browser.js';
import { api, type RunningServer } from '../support/server.js';

let server: RunningServer;
let page: Page;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ server, page, close } = await startEditor());
}, 120_000);

afterAll(() => close?.());

const send = (method: string, body: unknown) => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

describe('the audit log screen', () => {
  it('lists the changes made in the editor and through the API, filtered and paged', async () => {
    // a change in the editor: the demo flow renamed in the header (a save)
    await page.getByTestId('flow-name').waitFor();
    await page.locator('button[data-testid="flow-name"]').click();
    await page.getByTestId('flow-name-input').fill('Work orders (audited)');
    await page.getByTestId('flow-name-input').press('Enter');
    await expect.poll(() => page.getByTestId('flow-name').textContent()).toBe('Work orders (audited)');

    // changes through the API: a connection with a secret, tokens, a refused change
    await api(`${server.url}/api/connections`, {
      ...send('POST', { name: 'crm', baseUrl: 'http://127.0.0.2:9', auth: 'bearer', secret: 'crm-secret-token' }),
    });
    await api(`${server.url}/api/connections/crm`, send('PATCH', { secret: 'crm-secret-token-2' }));
    for (let i = 0; i < 55; i++) await api(`${server.url}/api/tokens`, send('POST', { name: `robot ${i}` }));
    await api(`${server.url}/api/connections/nothing`, send('PATCH', { checkPath: '/x' }), [404]);

    await page.getByTestId('audit-button').click();
    const screen = page.getByTestId('audit-screen');
    await screen.waitFor();
    const entries = screen.getByTestId('audit-entry');
    await expect.poll(() => entries.count()).toBe(50);
    // newest first: the refused change on top, with its error code
    const top = entries.first();
    expect(await top.getAttribute('data-action')).toBe('connection.changed');
    expect(await top.getAttribute('data-outcome')).toBe('refused');
    expect(await top.textContent()).toContain('refused · not_found');
    expect(await top.textContent()).toContain('SLUICE_API_TOKEN');

    // paging: the next page follows the cursor, down to the rename
    await screen.getByTestId('audit-more').click();
    await expect.poll(() => entries.count()).toBeGreaterThan(50);
    const saved = screen.locator('[data-testid="audit-entry"][data-action="flow.saved"]');
    await expect.poll(() => saved.count()).toBe(1);
    expect(await saved.textContent()).toContain('Work orders (audited)');
    expect(await screen.getByTestId('audit-more').count()).toBe(0);

    // a filter: the connection's entries only, without its secret
    await screen.getByTestId('audit-filter-object-type').selectOption('connection');
    await screen.getByTestId('audit-apply').click();
    await expect.poll(() => entries.count()).toBe(3);
    const actions = await entries.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
    expect(actions).toEqual(['connection.changed', 'connection.changed', 'connection.created']);
    expect(await screen.textContent()).not.toContain('crm-secret-token');
    expect(await screen.textContent()).toMatch(/fields: (auth, )?secret/);
    await page.screenshot({ path: path.join(SHOTS, 'audit-1-connection-entries.png') });

    // clicking an object filters on it
    await screen.getByRole('button', { name: 'crm', exact: true }).first().click();
    await expect.poll(() => entries.count()).toBe(2);
    await screen.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => entries.count()).toBe(50);
    await page.screenshot({ path: path.join(SHOTS, 'audit-2-log.png') });

    // the header keeps its buttons on one line at 1024 px with a flow open
    await page.setViewportSize({ width: 1024, height: 768 });
    await page.getByTestId('flows-button').click();
    await page.getByTestId('flow-name').waitFor();
    const header = await page.locator('header.header').boundingBox();
    expect(header?.height).toBeLessThan(60);
    await page.screenshot({ path: path.join(SHOTS, 'audit-3-header-1024.png') });
  });
});
