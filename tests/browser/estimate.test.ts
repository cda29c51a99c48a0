import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, SHOTS } from '../support/browser.js';
import { type RunningServer, startServer, TEST_TOKEN } from '../support/server.js';

/** The run estimate as a user sees it: on the Run button, in the inspector, and the ETA of a running run. */

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

describe('the run estimate in the editor', () => {
  it('before the first run of the demo: the exact waits on the Run button, and what is unknown in its tooltip', async () => {
    await page.goto(server.url);
    await page.getByTestId('use-token').click();
    await page.getByTestId('token-input').fill(TEST_TOKEN);
    await page.getByTestId('token-save').click();
    await expect.poll(() => page.getByTestId('flow-list-item').count()).toBeGreaterThan(0);
    await page.getByTestId('node-pause').waitFor({ state: 'visible' });
    // the maintenance system reports 1,000 work orders; 20 batches of 50 wait 19 × 200 ms; the time per record is not known yet
    await expect.poll(() => text('run-button')).toBe('Run · at least 4 s');
    const title = (await page.getByTestId('run-button').getAttribute('title')) ?? '';
    expect(title).toContain('1,000 records: the total the API reports for /api/eam/work-orders');
    expect(title).toContain('time per record unknown: run once to measure it');
    await page.getByTestId('node-pause').click();
    const inspector = page.getByTestId('inspector-estimate');
    await inspector.waitFor({ state: 'visible' });
    await inspector.scrollIntoViewIfNeeded();
    expect(await inspector.textContent()).toContain('19 waits of 200 ms between 20 batches of 50: 3.8 s, exact');
    await page.screenshot({ path: path.join(SHOTS, 'estimate-1-before-first-run.png') });

    // a count set in the source's inspector, for the estimate only: 2,000 records wait 39 × 200 ms
    await page.getByTestId('node-work-orders').click();
    const count = page.getByTestId('estimate-records');
    await count.scrollIntoViewIfNeeded();
    await count.fill('2000');
    await expect.poll(() => text('run-button')).toBe('Run · at least 8 s');
    expect(await page.getByTestId('inspector-estimate').textContent()).toContain('2,000 records: the count given');
    await page.screenshot({ path: path.join(SHOTS, 'estimate-1b-count-set.png') });
    await count.fill('');
    await expect.poll(() => text('run-button')).toBe('Run · at least 4 s');
    // the document did not change: nothing to save
    expect(await text('save-button')).toBe('Saved');
  });

  it('after one run: "Run · about N s" with the time per record measured in it', async () => {
    await page.getByTestId('run-button').click();
    await expect.poll(() => text('run-status'), { timeout: 60_000, interval: 250 }).toBe('succeeded');
    await expect.poll(() => text('run-button'), { timeout: 10_000 }).toMatch(/^Run · about \d+ s$/);
    const title = (await page.getByTestId('run-button').getAttribute('title')) ?? '';
    expect(title).toMatch(/^Estimated duration: about \d+ s\n/);
    expect(title).toContain('1,000 records: the total the API reports for /api/eam/work-orders');
    expect(title).toMatch(/1,000 records × [\d.]+ ms measured in run \d+/);
    await page.getByTestId('node-batch').click();
    await expect
      .poll(() => page.getByTestId('inspector-estimate').textContent())
      .toContain('20 batches of up to 50 records');
    await page.getByTestId('node-pause').click();
    await expect
      .poll(() => page.getByTestId('inspector-estimate').textContent())
      .toContain('19 waits of 200 ms between 20 batches of 50: 3.8 s, exact');
    await page.getByTestId('inspector-estimate').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'estimate-2-after-one-run.png') });
  });

  it('while the demo runs, the run panel shows the ETA counting down; it goes when the run ends', async () => {
    await page.getByTestId('run-button').click();
    const etas: number[] = [];
    const eta = page.getByTestId('run-eta');
    await eta.waitFor({ state: 'visible', timeout: 20_000 });
    let shot = false;
    for (;;) {
      const status = await text('run-status');
      if (status === 'succeeded') break;
      const shown = (await eta.count()) ? await eta.textContent() : null;
      const m = shown ? /^ETA (\d+):(\d\d)$/.exec(shown.trim()) : null;
      if (shown) expect(shown.trim()).toMatch(/^ETA \d+:\d\d$/);
      if (m) etas.push(Number(m[1]) * 60 + Number(m[2]));
      if (m && !shot && etas.length >= 2 && Number(await text('count-read')) > 0) {
        await page.screenshot({ path: path.join(SHOTS, 'estimate-3-eta-while-running.png') });
        shot = true;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(etas.length).toBeGreaterThanOrEqual(2);
    expect(etas[0]).toBeGreaterThanOrEqual(2); // 1,000 work orders with 3.8 s of waits
    expect(etas.at(-1)).toBeLessThan(etas[0] as number);
    await expect.poll(() => page.getByTestId('run-eta').count()).toBe(0);
  });
});
