import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, SHOTS } from '../support/browser.js';
import { api, apiClient, type RunningServer, startServer, TEST_TOKEN } from '../support/server.js';

/** What the ERP sandbox reports at /_sandbox/stats (the part read here). */
interface ErpStats {
  accepted: number;
  rejected: number;
  log: unknown[];
}

let server: RunningServer;
let browser: Browser;
let page: Page;
let erp: string;
let maintenance: string;

beforeAll(async () => {
  server = await startServer();
  const { items } = await apiClient(server.url).call('listConnections');
  erp = items.find((c) => c.name === 'erp-sandbox')?.baseUrl ?? '';
  maintenance = items.find((c) => c.name === 'maintenance-sandbox')?.baseUrl ?? '';
  browser = await launchChromium();
  page = await openPage(browser);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const erpStats = () => api<ErpStats>(`${erp}/_sandbox/stats`);
/** Requests the maintenance system (the demo's source) has seen since its fault settings were last set. */
const maintenanceRequests = async () =>
  (await api<{ stats: { requests: number } }>(`${maintenance}/_sandbox/faults`)).stats.requests;
const countMaintenanceAfresh = () =>
  api(`${maintenance}/_sandbox/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ seed: 1 }),
  });

const panel = () => page.getByTestId('node-data-panel');
const rows = () => panel().getByTestId('node-data-row');
const testAndWait = async () => {
  await page.getByTestId('test-button').click();
  await expect.poll(() => panel().getAttribute('data-state'), { timeout: 30_000, interval: 100 }).toBe('done');
};

describe('test runs in the editor', () => {
  it('tests the demo on 20 records: the ERP receives nothing, each node shows its input and output', async () => {
    await page.goto(`${server.url}/#token=${TEST_TOKEN}`);
    await page.locator('[data-testid="flow-list-item"]', { hasText: 'Work orders → ERP' }).first().click();
    await page.getByTestId('node-to-erp-shape').waitFor({ state: 'visible' });
    const before = await erpStats();

    await testAndWait();
    await page.getByTestId('node-to-erp-shape').click();
    await page.getByTestId('node-data-input').click();
    expect(await panel().getByTestId('node-data-count-input').textContent()).toBe('20');
    expect(await rows().count()).toBe(20);
    await page.screenshot({ path: path.join(SHOTS, 'test-run-1-map-input.png') });
    await page.getByTestId('node-data-output').click();
    expect(await panel().getByTestId('node-data-count-output').textContent()).toBe('20');
    expect(await rows().count()).toBe(20);
    expect(await panel().locator('th').allTextContents()).toEqual(
      expect.arrayContaining(['externalKey', 'title', 'priority', 'dueDate']),
    );
    await page.screenshot({ path: path.join(SHOTS, 'test-run-2-map-output.png') });

    // the ERP received nothing: no request at all
    const after = await erpStats();
    expect(after.log.length).toBe(before.log.length);
    expect(after.accepted + after.rejected).toBe(before.accepted + before.rejected);

    // the write shows the requests it would have made, its token masked
    await page.getByTestId('node-erp-write').click();
    await page.getByTestId('node-data-output').click();
    expect(await page.getByTestId('node-data-output').textContent()).toContain('Would send');
    expect(await rows().count()).toBe(20);
    await page.getByTestId('node-data-dry').waitFor({ state: 'visible' });
    await page.getByTestId('node-data-json').check();
    const json = (await page.getByTestId('node-data-json-view').textContent()) ?? '';
    expect(json).toContain('"authorization": "Bearer ••••••"');
    expect(json).toContain('/erp/api/erp/work-orders');
    expect(json).not.toContain('sandbox-erp-token');
    await page.screenshot({ path: path.join(SHOTS, 'test-run-3-would-send.png') });
    await page.getByTestId('node-data-json').uncheck();

    // the map node's expression preview now has a sample record
    await page.getByTestId('node-to-erp-shape').click();
    await expect
      .poll(() => page.getByTestId('expression-preview').first().getAttribute('data-state'), { timeout: 5000 })
      .toBe('ok');
  });

  it('pins the source’s data: the next test starts from it and does not call the source', async () => {
    await page.getByTestId('node-work-orders').click();
    await page.getByTestId('pin-button').click();
    await page.getByTestId('unpin-button').waitFor({ state: 'visible' });
    expect(await page.getByTestId('save-button').textContent()).toBe('Save');

    await countMaintenanceAfresh();
    await testAndWait();
    expect(await maintenanceRequests()).toBe(0);
    await page.getByTestId('node-data-pinned').waitFor({ state: 'visible' });
    await page.getByTestId('node-to-erp-shape').click();
    await page.getByTestId('node-data-output').click();
    expect(await rows().count()).toBe(20);
    await page.screenshot({ path: path.join(SHOTS, 'test-run-4-pinned.png') });

    // saved with the flow; a real run ignores it and reads the source
    await page.getByTestId('save-button').click();
    await expect.poll(() => page.getByTestId('save-button').textContent()).toBe('Saved');
    const flows = await apiClient(server.url).call('listFlows');
    const demo = flows.items.find((f) => f.name === 'Work orders → ERP');
    const detail = await apiClient(server.url).call('getFlow', { params: { id: demo?.id ?? '' } });
    expect(detail.document.pinned?.['work-orders']).toHaveLength(20);
  });

  it('"test to here" stops at the node; "send writes" sends them, and the write shows what failed and why', async () => {
    await page.getByTestId('node-to-erp-shape').click();
    const before = await erpStats();
    await page.getByTestId('test-to-here').click();
    await expect.poll(() => panel().getAttribute('data-state'), { timeout: 30_000, interval: 100 }).toBe('done');
    await page.getByTestId('node-data-node').selectOption('erp-write');
    await page.getByTestId('node-data-empty').waitFor({ state: 'visible' });
    expect((await erpStats()).log.length).toBe(before.log.length);

    await page.getByTestId('test-send-writes').check();
    await testAndWait();
    const after = await erpStats();
    expect(after.log.length - before.log.length).toBe(20);
    await page.getByTestId('node-data-node').selectOption('erp-write');
    expect(await page.getByTestId('node-data-output').textContent()).toContain('Output');
    const failed = Number(await panel().getByTestId('node-data-count-failed').textContent());
    expect(failed).toBe(after.rejected - before.rejected);
    if (failed > 0) {
      await page.getByTestId('node-data-failed').click();
      expect(await panel().locator('th').nth(1).textContent()).toBe('reason');
      expect(await rows().first().textContent()).toMatch(/HTTP 422/);
    }
    await page.screenshot({ path: path.join(SHOTS, 'test-run-5-sent-failed.png') });
    await page.getByTestId('test-send-writes').uncheck();
  });
});
