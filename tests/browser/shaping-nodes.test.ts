import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHOTS, startEditor } from '../support/browser.js';

let page: Page;
let errors: string[] = [];
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ page, errors, close } = await startEditor());
});

afterAll(() => close?.());

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
    // a code editor: JavaScript coloured, over several lines, with line numbers
    const body = page.getByTestId('param-code');
    expect(await body.getAttribute('contenteditable')).toBe('true');
    await body.fill('const total = record.qty * record.price;\nreturn { ...record, total };');
    const editor = page.locator('.code-javascript');
    await expect.poll(() => editor.locator('.cm-line').count()).toBe(2);
    expect(await editor.locator('.cm-gutterElement').allTextContents()).toContain('2');
    const keyword = editor.locator('.cm-line span', { hasText: /^const$/ });
    expect(await keyword.evaluate((el) => getComputedStyle(el).color)).toBe('rgb(190, 24, 93)');
    await expect.poll(() => page.getByTestId('node-code-1').textContent()).toContain('JavaScript per record');
    await page.screenshot({ path: path.join(SHOTS, 'code-inspector.png') });
    expect(errors).toEqual([]);
  });

  it('edits an SQL source’s SELECT as SQL: keywords coloured and completed', async () => {
    const canvas = page.getByTestId('canvas');
    await page.getByTestId('palette-item-sql-source').dragTo(canvas, { targetPosition: { x: 400, y: 360 } });
    await page.getByTestId('node-sql-source-1').click();
    const query = page.getByTestId('param-query');
    await query.fill('select id, total\nfrom orders\nwhere total > 100');
    const editor = page.locator('.code-sql');
    await expect.poll(() => editor.locator('.cm-line').count()).toBe(3);
    const keyword = editor.locator('.cm-line span', { hasText: /^where$/ });
    expect(await keyword.evaluate((el) => getComputedStyle(el).color)).toBe('rgb(190, 24, 93)');
    // completion offers SQL's keywords, upper-cased
    await query.press('End');
    await query.pressSequentially(' ORD');
    await expect.poll(() => page.locator('.cm-tooltip-autocomplete li').allTextContents()).toContain('ORDER');
    await page.screenshot({ path: path.join(SHOTS, 'sql-inspector.png') });
    expect(errors).toEqual([]);
  });
});
