import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, SHOTS } from '../support/browser.js';
import { type RunningServer, startServer, TEST_TOKEN } from '../support/server.js';

let server: RunningServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchChromium();
  page = await openPage(browser);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const text = async (testId: string) => (await page.getByTestId(testId).textContent())?.trim() ?? '';

describe('the editor in a real browser', () => {
  it('asks for an API token once, refuses a wrong one, and keeps the right one', async () => {
    await page.goto(server.url);
    // without a session the editor shows its login page; the API token is the other way in
    await page.getByTestId('use-token').click();
    await page.getByTestId('token-prompt').waitFor({ state: 'visible' });
    await page.getByTestId('token-input').fill('not-the-token');
    await page.getByTestId('token-save').click();
    await expect.poll(() => page.getByTestId('token-prompt').textContent()).toContain('did not accept');
    await page.screenshot({ path: path.join(SHOTS, '0-token-refused.png') });
    await page.getByTestId('token-input').fill(TEST_TOKEN);
    await page.getByTestId('token-save').click();
    await expect.poll(() => page.getByTestId('flow-list-item').count()).toBeGreaterThan(0);
    await page.reload();
    await expect.poll(() => page.getByTestId('flow-list-item').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('token-prompt').count()).toBe(0);
  });

  it('shows the demo flow, runs it, and shows the counts and a failed record with its error', async () => {
    await page.goto(server.url);
    await expect.poll(() => page.getByTestId('flow-list-item').count()).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('flow-list-item').first().textContent()).toContain('Work orders → ERP');

    for (const id of [
      'start',
      'work-orders',
      'batch',
      'pause',
      'to-erp-shape',
      'erp-write',
      'rejected',
      'dead-letter',
    ]) {
      await page.getByTestId(`node-${id}`).waitFor({ state: 'visible' });
    }
    expect(await page.getByTestId('node-batch').textContent()).toContain('50');
    await page.screenshot({ path: path.join(SHOTS, '1-demo-flow.png') });

    await page.getByTestId('run-button').click();
    await expect.poll(() => text('run-status'), { timeout: 60_000, interval: 250 }).toBe('succeeded');

    const read = Number(await text('count-read'));
    const succeeded = Number(await text('count-succeeded'));
    const failed = Number(await text('count-failed'));
    const filtered = Number(await text('count-filtered'));
    expect(read).toBe(1000);
    expect(succeeded + failed + filtered).toBe(read);
    expect(failed).toBeGreaterThan(0);
    // the batch node says how far the run got
    expect(await text('live-batch')).toBe('Batch 20');
    await page.screenshot({ path: path.join(SHOTS, '2-run-finished.png') });

    const firstFailed = page.getByTestId('failed-record').first();
    await firstFailed.waitFor({ state: 'visible' });
    await firstFailed.click();
    const detail = page.getByTestId('record-detail');
    await detail.waitFor({ state: 'visible' });
    await expect.poll(() => detail.textContent()).toMatch(/HTTP 422: (assetKey|title) is required/);
    await page.screenshot({ path: path.join(SHOTS, '3-failed-record.png') });
  });

  it('pauses and resumes a run, then retries its failed records', async () => {
    await page.getByTestId('run-button').click();
    await page.getByTestId('pause-button').click();
    await expect.poll(() => text('run-status'), { timeout: 10_000 }).toBe('paused');
    // a batch whose last request was in flight at the pause may still land; after that, nothing moves
    await new Promise((r) => setTimeout(r, 700));
    const readWhilePaused = Number(await text('count-read'));
    await page.screenshot({ path: path.join(SHOTS, '4-paused.png') });
    await new Promise((r) => setTimeout(r, 1000));
    expect(Number(await text('count-read'))).toBe(readWhilePaused);
    await page.getByTestId('resume-button').click();
    await expect.poll(() => text('run-status'), { timeout: 60_000, interval: 250 }).toBe('succeeded');
    expect(Number(await text('count-read'))).toBe(1000);

    await page.getByTestId('retry-button').click();
    // the run ran the current version: no version to choose
    expect(await page.getByTestId('retry-version-original').count()).toBe(0);
    await page.getByTestId('retry-confirm').click();
    // the panel switches to the new run, which says which run it retries
    await page.getByText(/retries run \d+/).waitFor({ state: 'visible', timeout: 10_000 });
    await expect.poll(() => text('run-status'), { timeout: 60_000, interval: 250 }).toBe('succeeded');
    // the retry run reads only the 86 failed records; on the same version they fail again
    await expect.poll(() => text('count-read'), { timeout: 10_000 }).toBe('86');
    expect(await text('count-failed')).toBe('86');
    await page.screenshot({ path: path.join(SHOTS, '5-retry-run.png') });
  });

  it('inspects a run: all its records, errors grouped by message, records per second, run and record history', async () => {
    // the run shown is the retry run of the previous test; open the first, full run from the history
    await page.getByTestId('dock-tab-runs').click();
    const rows = page.getByTestId('runs-row');
    await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(3);
    await rows.last().click();
    await expect.poll(() => text('count-read')).toBe('1000');

    await page.getByTestId('dock-tab-records').click();
    await expect.poll(() => page.getByTestId('records-row').count()).toBeGreaterThan(5);
    await page.getByTestId('records-filter-status').selectOption('failed');
    await expect
      .poll(
        async () =>
          new Set(
            await page.getByTestId('records-row').evaluateAll((r) => r.map((e) => e.getAttribute('data-status'))),
          ),
      )
      .toEqual(new Set(['failed']));
    await page.screenshot({ path: path.join(SHOTS, '10-records.png') });

    await page.getByTestId('dock-tab-errors').click();
    await expect.poll(() => page.getByTestId('error-group').count()).toBe(2);
    const counts = await page.getByTestId('error-group-count').allTextContents();
    expect(counts.map((c) => Number(c.replace(/\D/g, ''))).reduce((a, b) => a + b, 0)).toBe(86);
    await page.screenshot({ path: path.join(SHOTS, '11-errors-grouped.png') });

    await page.getByTestId('error-group-key').first().click();
    await expect.poll(() => page.getByTestId('record-timeline-entry').count()).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: path.join(SHOTS, '12-record-history.png') });

    await page.getByTestId('dock-tab-throughput').click();
    await page.getByTestId('throughput-chart').waitFor({ state: 'visible' });
    expect(await text('throughput-total')).toContain('1,000');
    await page.screenshot({ path: path.join(SHOTS, '13-throughput.png') });
  });
});
