import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, SHOTS } from '../support/browser.js';
import { type RunningServer, startServer, TEST_TOKEN } from '../support/server.js';

let server: RunningServer;
let browser: Browser;
let page: Page;
const errors: string[] = [];

beforeAll(async () => {
  server = await startServer();
  browser = await launchChromium();
  page = await openPage(browser);
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${server.url}/#token=${TEST_TOKEN}`);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('shaping nodes in the editor', () => {
  it('sit in the palette under Shaping; a code node’s JavaScript is edited over several lines', async () => {
    await page.getByTestId('new-flow-button').click();
    await page.getByTestId('new-blank-flow').click();
    await expect.poll(() => page.getByTestId('flow-name').textContent()).toBe('Untitled flow');
    const group = async (type: string) =>
      page
        .getByTestId(`palette-item-${type}`)
        .evaluate((el) => el.closest('.palette-group')?.querySelector('h3')?.textContent);
    for (const type of ['split', 'aggregate', 'dedupe', 'changed-only', 'code'])
      expect(await group(type), type).toBe('Shaping');

    const canvas = page.getByTestId('canvas');
    await page.getByTestId('palette-item-code').dragTo(canvas, { targetPosition: { x: 400, y: 200 } });
    await page.getByTestId('node-code-1').click();
    const body = page.getByTestId('param-code');
    expect(await body.evaluate((el) => el.tagName)).toBe('TEXTAREA');
    await body.fill('const total = record.qty * record.price;\nreturn { ...record, total };');
    expect(await body.inputValue()).toContain('\nreturn');
    expect(await page.getByTestId('node-code-1').textContent()).toContain('JavaScript per record');
    await page.screenshot({ path: path.join(SHOTS, 'code-inspector.png') });
    expect(errors).toEqual([]);
  });
});
