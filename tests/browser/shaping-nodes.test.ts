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
    const body = page.getByTestId('param-code');
    expect(await body.evaluate((el) => el.tagName)).toBe('TEXTAREA');
    await body.fill('const total = record.qty * record.price;\nreturn { ...record, total };');
    expect(await body.inputValue()).toContain('\nreturn');
    expect(await page.getByTestId('node-code-1').textContent()).toContain('JavaScript per record');
    await page.screenshot({ path: path.join(SHOTS, 'code-inspector.png') });
    expect(errors).toEqual([]);
  });
});
