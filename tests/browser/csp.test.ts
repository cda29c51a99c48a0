/// <reference lib="dom" />
import path from 'node:path';
import type { ApiClient } from '@sluice/shared';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, SHOTS } from '../support/browser.js';
import { apiClient, type RunningServer, startServer, TEST_TOKEN } from '../support/server.js';

/**
 * The editor and the API reference under their Content-Security-Policy, in Chromium: the canvas, the
 * inspector's expression editor (CodeMirror adds its styles at run time), a run and its live view
 * work, and the browser reports no violation of the policy, neither as an event nor on the console.
 */
let server: RunningServer;
let browser: Browser;
let page: Page;
let api: ApiClient;
const consoleLines: string[] = [];

beforeAll(async () => {
  server = await startServer();
  api = apiClient(server.url);
  browser = await launchChromium();
  page = await openPage(browser);
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleLines.push(m.text());
  });
  // every violation the page sees, kept where the test can read it (an init script is not subject to the policy)
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (e) =>
      seen.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`),
    );
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const violations = () => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
const cspMessages = () => consoleLines.filter((m) => /Content Security Policy|Refused to/i.test(m));
const text = async (testId: string) => (await page.getByTestId(testId).first().textContent())?.trim() ?? '';

describe('the editor under its Content-Security-Policy', () => {
  it('draws the canvas, edits an expression and runs a flow with no violation reported', async () => {
    const flow = await api.call('createFlow', {
      body: {
        format: 2,
        name: 'Under the policy',
        nodes: [
          { id: 'start', type: 'manual', position: { x: 0, y: 0 } },
          {
            id: 'src',
            type: 'inline-records',
            position: { x: 260, y: 0 },
            params: { records: Array.from({ length: 6 }, (_, n) => ({ k: `r${n}`, n })), keyField: 'k' },
          },
          {
            id: 'double',
            type: 'map',
            position: { x: 520, y: 0 },
            params: { fields: [{ name: 'twice', expression: 'n * 2' }] },
          },
          { id: 'out', type: 'collect', position: { x: 780, y: 0 } },
        ],
        edges: [
          { source: 'start', target: 'src' },
          { source: 'src', target: 'double' },
          { source: 'double', target: 'out' },
        ],
      },
    });
    const res = await page.goto(`${server.url}/?load=${flow.id}#token=${TEST_TOKEN}`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByTestId('flow-list-item').filter({ hasText: 'Under the policy' }).first().click();
    await expect.poll(() => page.locator('.react-flow__node').count(), { timeout: 30_000 }).toBe(4);
    // the inspector of the map, with its expression editor
    await page.locator('.react-flow__node[data-id="double"]').click();
    await expect.poll(() => page.locator('.cm-editor').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    // a run, followed live
    await page.getByTestId('run-button').click();
    await expect.poll(() => text('run-status'), { timeout: 30_000 }).toBe('succeeded');
    await page.screenshot({ path: path.join(SHOTS, 'csp-editor.png') });
    expect(await violations()).toEqual([]);
    expect(cspMessages()).toEqual([]);
  });

  it('shows the API reference under the policy with no violation', async () => {
    const res = await page.goto(`${server.url}/reference`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await expect.poll(() => page.locator('section').count()).toBeGreaterThan(20);
    // its styles apply: the method badges are coloured, not the default black on white
    const styled = await page.evaluate(() => {
      const badge = document.querySelector('.m');
      return badge ? getComputedStyle(badge).backgroundColor : '';
    });
    expect(styled).not.toBe('rgba(0, 0, 0, 0)');
    await page.screenshot({ path: path.join(SHOTS, 'csp-reference.png') });
    expect(await violations()).toEqual([]);
    expect(cspMessages()).toEqual([]);
  });
});
