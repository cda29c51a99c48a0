import path from 'node:path';
import type { Operations, RunDetail } from '@sluice/shared';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPage, SHOTS, startEditor } from '../support/browser.js';
import { api, eventually, type RunningServer, TEST_TOKEN } from '../support/server.js';

let server: RunningServer;
let browser: Browser;
let page: Page;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ server, browser, page, close } = await startEditor());
}, 120_000);

afterAll(() => close?.());

const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

describe('the operations screen', () => {
  it('shows a run waiting on an open breaker and that connection’s breaker open, and opens the run’s flow', async () => {
    // the ERP answers every request 503: the connection's breaker opens and the demo run waits on it
    const { items } = await api<{ items: { name: string; baseUrl: string }[] }>(`${server.url}/api/connections`);
    const erp = items.find((c) => c.name === 'erp-sandbox')?.baseUrl ?? '';
    await api(`${erp}/_sandbox/faults`, { ...json({ seed: 3, transient: { share: 1, status: 503 } }), method: 'PUT' });
    const flows = await api<{ items: { id: string; name: string }[] }>(`${server.url}/api/flows`);
    const demo = flows.items.find((f) => f.name === 'Work orders → ERP');
    expect(demo).toBeDefined();
    const { runId } = await api<{ runId: string }>(`${server.url}/api/flows/${demo?.id}/runs`, json({}));
    await eventually(async () => {
      const run = await api<RunDetail>(`${server.url}/api/runs/${runId}`);
      return run.waiting?.kind === 'breaker' ? run : undefined;
    });
    // a published flow with a schedule, for the schedules table
    const nightly = await api<{ id: string }>(
      `${server.url}/api/flows`,
      json({
        format: 2,
        name: 'Nightly export',
        nodes: [
          { id: 'when', type: 'schedule', params: { cron: '30 2 * * *', timezone: 'Europe/Berlin' } },
          { id: 'src', type: 'inline-records', params: { records: [{ key: 'a' }], keyField: 'key' } },
        ],
        edges: [{ source: 'when', target: 'src' }],
      }),
    );
    await api(`${server.url}/api/flows/${nightly.id}/publish`, json({}));

    await page.getByTestId('operations-button').click();
    const screen = page.getByTestId('operations-screen');
    await screen.waitFor();
    const row = screen.locator(`[data-testid="ops-run"][data-run-id="${runId}"]`);
    await row.waitFor();
    expect(await row.locator('.status').textContent()).toBe('running');
    const waiting = row.getByTestId('ops-run-waiting');
    await expect.poll(() => waiting.textContent(), { timeout: 30_000 }).toMatch(/^breaker open erp-sandbox · \d+/);
    // the run sits under the process that executes it: the one the editor talks to
    const group = screen
      .locator('[data-testid="ops-executor"]')
      .filter({ has: page.locator(`[data-run-id="${runId}"]`) });
    expect(await group.getAttribute('data-local')).toBe('true');
    expect(await group.locator('.ops-group th').textContent()).toMatch(/^This process \(.+ · pid \d+\)1 run$/);

    const breaker = screen.locator('[data-connection="erp-sandbox"]').getByTestId('ops-breaker');
    // open (a probe every 30 s finds the ERP still failing: half-open for the moment it takes)
    await expect.poll(() => breaker.getAttribute('data-state'), { timeout: 30_000 }).toBe('open');
    expect(await breaker.textContent()).toMatch(/^open · (\d+(\.\d)? s left|probing soon)$/);
    expect(
      await screen
        .locator('[data-connection="maintenance-sandbox"]')
        .getByTestId('ops-breaker')
        .getAttribute('data-state'),
    ).toBe('closed');
    expect(await screen.getByTestId('ops-open-breakers').locator('.ops-tile-value').textContent()).toBe('1');
    expect(await screen.getByTestId('ops-running').locator('.ops-tile-value').textContent()).toBe('1');

    const schedule = screen.getByTestId('ops-schedule');
    expect(await schedule.count()).toBe(1);
    expect(await schedule.textContent()).toMatch(/^Nightly exportAt 02:30 \(Europe\/Berlin\)in \d.*not fired yet$/);
    // alert deliveries: no flow has rules, so none yet
    await screen.getByTestId('ops-alerts-empty').waitFor();

    // the screen follows the server: the answer it polls says the same as what it shows
    const ops = await api<Operations>(`${server.url}/api/operations`);
    expect(ops.connections.find((c) => c.name === 'erp-sandbox')?.breaker?.state).toBe('open');

    await page.screenshot({ path: path.join(SHOTS, '40-operations-breaker-open.png'), fullPage: true });
    const small = await openPage(browser, { width: 1024, height: 700 });
    await small.goto(`${server.url}/#token=${TEST_TOKEN}`);
    await small.getByTestId('operations-button').click();
    await small.locator(`[data-testid="ops-run"][data-run-id="${runId}"] [data-testid="ops-run-waiting"]`).waitFor();
    await small.screenshot({ path: path.join(SHOTS, '41-operations-1024.png') });
    await small.emulateMedia({ colorScheme: 'dark' });
    await small.screenshot({ path: path.join(SHOTS, '42-operations-1024-dark.png') });
    await small.close();

    // the run's flow opens in the editor
    await row.locator('.ops-flow-link').click();
    await page.getByTestId('flow-name').waitFor();
    expect(await page.getByTestId('flow-name').textContent()).toBe('Work orders → ERP');
    expect(await page.getByTestId('operations-screen').count()).toBe(0);

    await api(`${server.url}/api/runs/${runId}/cancel`, { method: 'POST' });
  }, 120_000);
});
