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

const problems = async () => (await page.getByTestId('problem').allTextContents()).map((t) => t.trim());

describe('SQL nodes in the editor', () => {
  it('sit in the palette under sources, transform and sinks, and get a form and plain problems', async () => {
    await page.getByTestId('new-flow-button').click();
    await page.getByTestId('new-blank-flow').click();
    await expect.poll(() => page.getByTestId('flow-name').textContent()).toBe('Untitled flow');
    await page.getByTestId('palette-search').fill('sql');
    const group = async (type: string) =>
      page
        .getByTestId(`palette-item-${type}`)
        .evaluate((el) => el.closest('.palette-group')?.querySelector('h3')?.textContent);
    expect(await group('sql-source')).toBe('Sources');
    expect(await group('sql-lookup')).toBe('Transform');
    expect(await group('sql-write')).toBe('Sinks');

    const canvas = page.getByTestId('canvas');
    await page.getByTestId('palette-item-sql-write').dragTo(canvas, { targetPosition: { x: 400, y: 200 } });
    await page.getByTestId('node-sql-write-1').click();
    // the form generated from the node's schema: a connection to choose, the table, the mode
    await page.getByTestId('param-table').fill('orders; drop');
    await expect
      .poll(problems)
      .toEqual(expect.arrayContaining([expect.stringMatching(/SQL write → Table: must be a plain SQL table name/)]));
    await page.getByTestId('param-table').fill('orders');
    await expect.poll(async () => (await problems()).some((p) => p.includes('Table'))).toBe(false);
    const mode = page.getByTestId('param-mode');
    expect(await mode.evaluate((el: HTMLSelectElement) => el.selectedOptions[0]?.textContent)).toMatch(/upsert/);
    expect(await page.getByTestId('param-connection').isVisible()).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'sql-write-inspector.png') });
    expect(errors).toEqual([]);
  });
});
