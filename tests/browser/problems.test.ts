import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, SHOTS } from '../support/browser.js';
import { authHeader, type RunningServer, startServer, TEST_TOKEN } from '../support/server.js';

let server: RunningServer;
let browser: Browser;
let page: Page;

/** A flow with a problem of every kind the issue names, built as a user would leave it half done. */
const FLOW = {
  format: 1,
  name: 'Problems in plain language',
  nodes: [
    { id: 'start', type: 'manual', position: { x: 0, y: 0 } },
    {
      id: 'src',
      type: 'inline-records',
      name: 'Orders',
      params: { records: [{ id: 1, title: 'Pump', qty: 3, price: 2.5 }] },
      position: { x: 220, y: 0 },
    },
    {
      id: 'shape',
      type: 'map',
      name: 'Shape',
      params: { fields: [{ name: 'label', expression: 'title' }] },
      position: { x: 440, y: 0 },
    },
    { id: 'throttle', type: 'delay', name: 'Throttle', params: { mode: 'rate' }, position: { x: 660, y: 0 } },
    { id: 'erp', type: 'http-write', name: 'Create in ERP', params: {}, position: { x: 880, y: 0 } },
    { id: 'nightly', type: 'schedule', name: 'Nightly', params: { cron: '0 2 * * *' }, position: { x: 0, y: 200 } },
    {
      id: 'read',
      type: 'http-source',
      name: 'Read orders',
      params: { url: 'https://example.test/orders' },
      position: { x: 220, y: 200 },
    },
  ],
  edges: [
    { source: 'start', target: 'src' },
    { source: 'src', target: 'shape' },
    { source: 'shape', target: 'throttle' },
    { source: 'throttle', target: 'erp' },
    { source: 'nightly', target: 'read' },
  ],
};

beforeAll(async () => {
  server = await startServer();
  const created = await fetch(`${server.url}/api/flows`, {
    method: 'POST',
    headers: { ...authHeader, 'content-type': 'application/json' },
    body: JSON.stringify(FLOW),
  });
  expect(created.status).toBe(201);
  browser = await launchChromium();
  page = await openPage(browser);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** The browser on a shared machine may take a moment to show a result. */
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 10_000, interval: 50 });

const problems = async () => (await page.getByTestId('problem').allTextContents()).map((t) => t.trim());
const headerCount = async () => {
  const header = page.getByTestId('header-problem-count');
  if ((await header.count()) === 0) return 0;
  return Number((await header.textContent())?.match(/\d+/)?.[0] ?? Number.NaN);
};
const select = async (id: string) => {
  await page.getByTestId(`node-${id}`).click();
  await page.getByTestId('inspector').waitFor({ state: 'visible' });
  await poll(() => page.getByTestId('inspector').textContent()).toContain(id);
};

describe('problems in plain language, in a real browser', () => {
  it('names the node and the field, never a schema path, with one count in the header and the list', async () => {
    await page.goto(server.url);
    await page.getByTestId('use-token').click();
    await page.getByTestId('token-input').fill(TEST_TOKEN);
    await page.getByTestId('token-save').click();
    await page.getByTestId('flow-list-item').filter({ hasText: FLOW.name }).click();
    await page.getByTestId('node-erp').waitFor({ state: 'visible' });
    await poll(problems).toContain('errorCreate in ERP → URL: required');
    const listed = await problems();
    for (const line of listed) expect(line).not.toMatch(/nodes\[|edges\[|params\.|Invalid input|received undefined/);
    expect(await headerCount()).toBe(listed.length);
    expect(Number(await page.getByTestId('section-count-problems').textContent())).toBe(listed.length);
    await page.getByTestId('problem-list').screenshot({ path: path.join(SHOTS, 'problems-1-list.png') });
  });

  it('shows an HTTP write only the fields of its mode', async () => {
    await select('erp');
    await poll(() => page.getByTestId('inspector').textContent()).toContain('required');
    expect(await page.getByTestId('param-batchSize').count()).toBe(0);
    expect(await page.getByTestId('param-resultsPath').count()).toBe(0);
    await page.getByTestId('param-mode').selectOption('batch');
    await page.getByTestId('param-batchSize').waitFor({ state: 'visible' });
    await page.getByTestId('param-url').fill('/work-orders');
    await page.getByTestId('param-connection').selectOption('erp-sandbox');
    await poll(problems).not.toContain('errorCreate in ERP → URL: required');
    expect(await headerCount()).toBe((await problems()).length);
  });

  it('shows the delay in rate mode without the fixed wait', async () => {
    await select('throttle');
    await page.getByTestId('param-records').waitFor({ state: 'visible' });
    expect(await page.getByTestId('param-ms').count()).toBe(0);
    expect(await page.getByTestId('param-intervalMs').count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'problems-2-delay-rate.png') });
    await page.getByTestId('param-mode').selectOption('fixed');
    await page.getByTestId('param-ms').waitFor({ state: 'visible' });
    expect(await page.getByTestId('param-records').count()).toBe(0);
  });

  it('never says "required" for the unused optional Incremental group', async () => {
    await select('read');
    const group = page.getByTestId('param-incremental');
    await group.waitFor({ state: 'visible' });
    expect(await group.textContent()).not.toMatch(/required/i);
    expect(await page.getByTestId('param-incremental-use').isChecked()).toBe(false);
    expect((await problems()).some((p) => p.includes('Incremental'))).toBe(false);
    await group.scrollIntoViewIfNeeded();
    await group.screenshot({ path: path.join(SHOTS, 'problems-3-incremental-off.png') });
    // once in use, its fields count
    await page.getByTestId('param-incremental-use').check();
    await poll(() => group.textContent()).toMatch(/must not be empty/);
    await page.getByTestId('param-incremental-use').uncheck();
    await poll(() => group.textContent()).not.toMatch(/must not be empty|required/);
  });

  it('lists a broken expression while typing, before Save', async () => {
    await select('shape');
    const field = page.getByTestId('param-fields.0.expression');
    await field.fill('title & (');
    await poll(async () => (await problems()).find((p) => p.includes('Shape → Field 1 → Expression')) ?? '').toMatch(
      /Shape → Field 1 → Expression: .+/,
    );
    expect(await page.getByTestId('save-button').textContent()).toMatch(/save/i);
    expect(await headerCount()).toBe((await problems()).length);
    await page.screenshot({ path: path.join(SHOTS, 'problems-4-expression-while-typing.png') });
    await field.fill('title');
    await poll(async () => (await problems()).some((p) => p.includes('Expression'))).toBe(false);
  });

  it("says croner's reason for an invalid cron, in the form and in the list", async () => {
    await select('nightly');
    await page.getByTestId('param-cron').fill('0 25 * * *');
    const meaning = page.getByTestId('schedule-meaning');
    await poll(() => meaning.textContent()).toMatch(/Not a valid schedule: .*hour/i);
    await poll(problems).toEqual(expect.arrayContaining([expect.stringMatching(/Nightly → Cron: .*hour/i)]));
    expect(await headerCount()).toBe((await problems()).length);
    await page.screenshot({ path: path.join(SHOTS, 'problems-5-cron.png') });
    await page.getByTestId('param-cron').fill('0 2 * * *');
    await page.getByTestId('param-timezone').fill('Mars/Olympus');
    await poll(problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/Nightly → Timezone: "Mars\/Olympus" is not/)]),
    );
  });
});
