import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, SHOTS } from '../support/browser.js';
import { authHeader, type RunningServer, startServer, TEST_TOKEN } from '../support/server.js';

let server: RunningServer;
let browser: Browser;
let page: Page;

const FLOW = {
  format: 1,
  name: 'Expressions',
  nodes: [
    { id: 'start', type: 'manual', position: { x: 0, y: 0 } },
    {
      id: 'src',
      type: 'inline-records',
      name: 'Orders',
      params: {
        records: [
          { id: 1, title: 'Pump', qty: 3, address: { city: 'Oslo' } },
          { id: 2, title: 'Valve', qty: 5, address: { city: 'Bergen' } },
        ],
      },
      position: { x: 220, y: 0 },
    },
    {
      id: 'shape',
      type: 'map',
      name: 'Shape',
      params: { fields: [{ name: 'label', expression: 'title' }] },
      position: { x: 440, y: 0 },
    },
    { id: 'out', type: 'collect', position: { x: 660, y: 0 } },
  ],
  edges: [
    { source: 'start', target: 'src' },
    { source: 'src', target: 'shape' },
    { source: 'shape', target: 'out' },
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

/** The browser on a shared machine may take a moment to show a tooltip or a result. */
const poll = <T>(fn: () => Promise<T> | T) => expect.poll(fn, { timeout: 10_000, interval: 50 });

const field = () => page.getByTestId('param-fields.0.expression');
const completions = () => page.locator('.cm-tooltip-autocomplete li');
const preview = () => page.getByTestId('expression-preview-value');

/** Selects everything in the expression editor and types `text` key by key, as a user does. */
async function retype(text: string) {
  await field().click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.press('Backspace');
  if (text) await page.keyboard.type(text, { delay: 15 });
}

describe('the expression editor, in a real browser', () => {
  it('is a code editor on the sample record, with the live result', async () => {
    await page.goto(server.url);
    // the editor opens on the sign-in page; an API token is the other way in
    await page.getByTestId('use-token').click();
    await page.getByTestId('token-input').fill(TEST_TOKEN);
    await page.getByTestId('token-save').click();
    await page.getByTestId('flow-list-item').filter({ hasText: FLOW.name }).click();
    await page.getByTestId('node-shape').click();
    await field().waitFor({ state: 'visible' });
    expect(await field().getAttribute('contenteditable')).toBe('true');
    await poll(() => preview().textContent()).toBe('"Pump"');
  });

  it('completes field paths of the sample record', async () => {
    await retype('addr');
    await poll(() => completions().allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('address.city')]),
    );
    await page.screenshot({ path: path.join(SHOTS, 'expressions-1-field-paths.png') });
    await completions().filter({ hasText: 'address.city' }).click();
    await poll(() => field().textContent()).toBe('address.city');
    await poll(() => preview().textContent()).toBe('"Oslo"');
  });

  it('completes JSONata functions with their signatures, and the result follows', async () => {
    await retype('$upp');
    await poll(() => completions().allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/\$uppercase.*\$uppercase\(str\)/)]),
    );
    await page.screenshot({ path: path.join(SHOTS, 'expressions-2-functions.png') });
    await page.keyboard.press('Enter');
    await page.keyboard.type('title', { delay: 15 });
    await page.keyboard.press('Escape');
    // the function came with its parentheses
    await poll(() => field().textContent()).toBe('$uppercase(title)');
    await poll(() => preview().textContent()).toBe('"PUMP"');
    await page.getByTestId('expression-preview-next').click();
    await poll(() => page.getByTestId('expression-preview-record').textContent()).toBe('Record 2 of 2');
    await poll(() => preview().textContent()).toBe('"VALVE"');
  });

  it('underlines a syntax error while typing and lists it before Save', async () => {
    await retype('title &');
    await page.keyboard.press('Escape');
    await page.locator('.cm-lintRange-error').first().waitFor({ state: 'visible' });
    await poll(async () => (await page.getByTestId('problem').allTextContents()).join('\n')).toMatch(
      /Shape → Field 1 → Expression: .*\(at character 7\)/,
    );
    await page.locator('.cm-lintRange-error').first().hover();
    await page.locator('.cm-tooltip-lint').first().waitFor({ state: 'visible' });
    await page.screenshot({ path: path.join(SHOTS, 'expressions-3-syntax-error.png') });
    await page.keyboard.press('End');
    await retype('qty * 2');
    await poll(() => page.locator('.cm-lintRange-error').count()).toBe(0);
    await poll(() => preview().textContent()).toBe('10');
  });
});
