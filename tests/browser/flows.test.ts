import path from 'node:path';
import type { ApiClient } from '@sluice/shared';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, SHOTS } from '../support/browser.js';
import { apiClient, type RunningServer, startServer, TEST_TOKEN } from '../support/server.js';

/** Flows in the editor: rename, run numbers and the manual trigger, search, duplicate, delete and archive, unsaved changes, imports with problems. */

let server: RunningServer;
let browser: Browser;
let page: Page;
let api: ApiClient;

/** A quick flow: six records, a map that fails the odd ones unless they say `fixed`. */
const quickFlow = (name: string) => ({
  format: 1,
  name,
  nodes: [
    { id: 'start', type: 'manual', position: { x: 0, y: 0 } },
    {
      id: 'src',
      type: 'inline-records',
      position: { x: 260, y: 0 },
      params: { records: Array.from({ length: 6 }, (_, n) => ({ k: `r${n}`, n })), keyField: 'k' },
    },
    {
      id: 'check',
      type: 'map',
      position: { x: 520, y: 0 },
      params: { fields: [{ name: 'v', expression: "fixed or n % 2 = 0 ? n : $error('odd number')" }] },
    },
    { id: 'out', type: 'collect', position: { x: 780, y: 0 } },
  ],
  edges: [
    { source: 'start', target: 'src' },
    { source: 'src', target: 'check' },
    { source: 'check', target: 'out' },
  ],
});

beforeAll(async () => {
  server = await startServer();
  api = apiClient(server.url);
  browser = await launchChromium();
  page = await openPage(browser);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const text = async (testId: string) => (await page.getByTestId(testId).first().textContent())?.trim() ?? '';
const listed = async () => (await page.getByTestId('flow-list-item').allTextContents()).map((t) => t.trim());
/** Loads the editor afresh (a new query string: a navigation, not a jump to a fragment), signed in. */
const openApp = () => page.goto(`${server.url}/?load=${Date.now()}#token=${TEST_TOKEN}`);
const openFlowNamed = async (name: string) => {
  await page.getByTestId('flow-list-item').filter({ hasText: name }).first().click();
  await expect.poll(() => text('flow-name')).toBe(name);
};

describe('flows in the editor', () => {
  it('renames the open flow in the header, saved as a new version', async () => {
    const flow = await api.call('createFlow', { body: quickFlow('Untitled flow') });
    await openApp();
    await expect.poll(() => text('flow-name')).toBe('Untitled flow');
    // the name is a button once the flow is open
    await page.locator('button[data-testid="flow-name"]').click();
    await page.getByTestId('flow-name-input').fill('Odd numbers');
    await page.getByTestId('flow-name-input').press('Enter');
    await expect.poll(() => text('flow-name')).toBe('Odd numbers');
    await expect.poll(async () => (await api.call('getFlow', { params: { id: flow.id } })).name).toBe('Odd numbers');
    expect((await api.call('getFlow', { params: { id: flow.id } })).latestVersion).toBe(2);
    await expect.poll(() => listed()).toContain('Odd numbers');
    expect(await page.getByTestId('unsaved-marker').count()).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'flows-1-renamed.png') });
  });

  it('stores a run started with Run as manual, and shows its number in this flow beside its id', async () => {
    await page.getByTestId('run-button').click();
    await expect.poll(() => text('run-status'), { timeout: 30_000 }).toBe('succeeded');
    await expect.poll(() => text('run-number')).toBe('Run 1 of this flow');
    await page.getByTestId('run-button').click();
    await expect.poll(() => text('run-number'), { timeout: 30_000 }).toBe('Run 2 of this flow');
    await expect.poll(() => text('run-status'), { timeout: 30_000 }).toBe('succeeded');
    const runs = await api.call('listRuns', { query: { limit: 5 } });
    expect(runs.items.slice(0, 2).map((r) => [r.runNumber, r.trigger])).toEqual([
      [2, 'manual'],
      [1, 'manual'],
    ]);
    await page.getByTestId('dock-tab-runs').click();
    await expect.poll(async () => (await page.getByTestId('runs-row-number').allTextContents()).length).toBe(2);
    const rows = await page.getByTestId('runs-row-number').allTextContents();
    expect(rows[0]).toMatch(/^Run 2 #\d+$/);
    expect(rows[1]).toMatch(/^Run 1 #\d+$/);
    await page.screenshot({ path: path.join(SHOTS, 'flows-2-run-numbers.png') });
  });

  it('asks before switching away from unsaved changes, and before reloading the page', async () => {
    await page.getByTestId('palette-item-filter').click();
    await expect.poll(() => page.getByTestId('unsaved-marker').count()).toBe(1);
    await page.getByTestId('flow-list-item').filter({ hasText: 'Work orders → ERP' }).first().click();
    await page.getByTestId('unsaved-dialog').waitFor({ state: 'visible' });
    expect(await text('unsaved-dialog')).toContain('Unsaved changes in “Odd numbers”');
    await page.screenshot({ path: path.join(SHOTS, 'flows-3-unsaved-dialog.png') });
    await page.getByTestId('unsaved-stay').click();
    expect(await text('flow-name')).toBe('Odd numbers');
    expect(await page.getByTestId('unsaved-marker').count()).toBe(1);

    // reloading asks too: the browser's own question, answered "stay"
    const asked = new Promise<string>((resolve) =>
      page.once('dialog', (dialog) => {
        resolve(dialog.type());
        void dialog.dismiss();
      }),
    );
    void page.reload().catch(() => undefined);
    expect(await asked).toBe('beforeunload');
    expect(await text('flow-name')).toBe('Odd numbers');

    await page.getByTestId('flow-list-item').filter({ hasText: 'Work orders → ERP' }).first().click();
    await page.getByTestId('unsaved-discard').click();
    await expect.poll(() => text('flow-name')).toBe('Work orders → ERP');
    expect(await page.getByTestId('unsaved-marker').count()).toBe(0);
    // what was discarded was never saved
    const odd = (await api.call('listFlows')).items.find((f) => f.name === 'Odd numbers');
    expect(odd?.latestVersion).toBe(2);
  });

  it('searches the list', async () => {
    const all = (await listed()).length;
    expect(all).toBeGreaterThanOrEqual(2);
    await page.getByTestId('flow-search').fill('odd');
    await expect.poll(() => listed()).toEqual(['Odd numbers']);
    await page.getByTestId('flow-search').fill('no such flow');
    await expect.poll(() => page.getByTestId('flow-list-item').count()).toBe(0);
    expect(await text('flow-search-empty')).toBe('No flow matches “no such flow”.');
    await page.getByTestId('flow-search').fill('');
    await expect.poll(async () => (await listed()).length).toBe(all);
  });

  it('duplicates a flow, deletes a flow that never ran, archives one that ran and restores it', async () => {
    await openFlowNamed('Odd numbers');
    await page.getByTestId('duplicate-flow').click();
    await expect.poll(() => text('flow-name')).toBe('Odd numbers (copy)');
    await expect.poll(() => listed()).toContain('Odd numbers (copy)');

    await page.getByTestId('delete-flow').click();
    await expect.poll(() => text('delete-explanation')).toContain('never run');
    await page.getByTestId('delete-confirm').click();
    await expect.poll(() => listed()).not.toContain('Odd numbers (copy)');
    expect((await api.call('listFlows', { query: { archived: 'true' } })).items).toHaveLength(0);

    await openFlowNamed('Odd numbers');
    await page.getByTestId('delete-flow').click();
    await expect.poll(() => text('delete-explanation')).toContain('It has 2 runs, so it is archived');
    await page.screenshot({ path: path.join(SHOTS, 'flows-4-delete-dialog.png') });
    await page.getByTestId('delete-confirm').click();
    await expect.poll(() => listed()).not.toContain('Odd numbers');

    await page.getByTestId('archived-filter').click();
    await expect.poll(() => listed()).toEqual(['Odd numbers']);
    await page.screenshot({ path: path.join(SHOTS, 'flows-5-archived.png') });
    await page.getByTestId('restore-flow').click();
    await expect.poll(() => text('flow-name')).toBe('Odd numbers');
    await expect.poll(() => listed()).toContain('Odd numbers');
    // its history was kept
    await page.getByTestId('dock-tab-runs').click();
    await expect.poll(() => page.getByTestId('runs-row').count()).toBe(2);
  });

  it('opens an import with problems as an unsaved draft, not as a saved flow', async () => {
    const before = (await api.call('listFlows')).items.length;
    const broken = quickFlow('Broken import');
    (broken.nodes[2] as { params: unknown }).params = { fields: [{ name: 'v', expression: '' }] };
    broken.edges.pop();
    await page.getByTestId('import-file').setInputFiles({
      name: 'broken.flow.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(broken)),
    });
    await page.getByTestId('draft-banner').waitFor({ state: 'visible' });
    expect(await text('draft-banner')).toMatch(
      /Not saved\. Imported from broken\.flow\.json with (an error|\d+ errors)/,
    );
    expect(await text('flow-name')).toBe('Broken import');
    expect(await page.getByTestId('problem').count()).toBeGreaterThan(0);
    expect((await api.call('listFlows')).items).toHaveLength(before);
    await page.screenshot({ path: path.join(SHOTS, 'flows-6-import-draft.png') });

    // leaving the draft asks, like any unsaved change; discarding leaves nothing behind
    await page.getByTestId('flow-list-item').first().click();
    await page.getByTestId('unsaved-dialog').waitFor({ state: 'visible' });
    await page.getByTestId('unsaved-discard').click();
    await expect.poll(() => page.getByTestId('draft-banner').count()).toBe(0);
    expect((await api.call('listFlows')).items).toHaveLength(before);

    // imported again and saved: a new flow, kept as a draft with its problems
    await page.getByTestId('import-file').setInputFiles({
      name: 'broken.flow.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(broken)),
    });
    await page.getByTestId('draft-save').click();
    await expect.poll(() => page.getByTestId('draft-banner').count()).toBe(0);
    await expect.poll(() => text('flow-name')).toBe('Broken import');
    expect((await api.call('listFlows')).items).toHaveLength(before + 1);

    // a clean file is saved at once
    await page.getByTestId('import-file').setInputFiles({
      name: 'clean.flow.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(quickFlow('Clean import'))),
    });
    await expect.poll(() => text('flow-name')).toBe('Clean import');
    expect(await page.getByTestId('draft-banner').count()).toBe(0);
  });
});

describe('connections in nodes', () => {
  it('offers the connections that fit the node, and "New connection…" creates one and selects it', async () => {
    await openFlowNamed('Work orders → ERP');
    await page.getByTestId('node-erp-write').click();
    const select = page.getByTestId('param-connection');
    await select.waitFor({ state: 'visible' });
    const options = async () => (await select.locator('option').allTextContents()).map((o) => o.trim());
    await expect
      .poll(options)
      .toEqual(['None: the URL is absolute', 'erp-sandbox', 'maintenance-sandbox', 'New connection…']);
    expect(await select.inputValue()).toBe('erp-sandbox');

    await select.selectOption({ label: 'New connection…' });
    const form = page.locator('.inspector-side [data-testid="connection-form"]');
    await form.waitFor({ state: 'visible' });
    await form.getByTestId('connection-name').fill('acme-erp');
    await form.getByTestId('connection-baseUrl').fill('https://erp.acme.example');
    await form.getByTestId('connection-auth').selectOption('none');
    await page.screenshot({ path: path.join(SHOTS, 'flows-7-new-connection-inline.png') });
    await form.getByTestId('connection-save').click();
    await expect.poll(() => select.inputValue()).toBe('acme-erp');
    expect(await page.locator('.inspector-side [data-testid="connection-form"]').count()).toBe(0);
    const grouped = await select
      .locator('optgroup')
      .evaluateAll((groups) =>
        groups.map((g) => [g.getAttribute('label'), [...g.querySelectorAll('option')].map((o) => o.textContent)]),
      );
    expect(grouped).toEqual([
      ['Built in', ['erp-sandbox', 'maintenance-sandbox']],
      ['Stored', ['acme-erp']],
    ]);
    expect(await page.getByTestId('unsaved-marker').count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'flows-8-connection-selected.png') });
    await page.getByTestId('undo-button').click();
    await expect.poll(() => select.inputValue()).toBe('erp-sandbox');
  });

  it('passes the Test of every built-in connection', async () => {
    await page.getByTestId('connections-button').click();
    await page.getByTestId('connections-panel').waitFor({ state: 'visible' });
    const rows = page.getByTestId('connection-row').filter({ has: page.getByTestId('connection-built-in') });
    await expect.poll(() => rows.count()).toBe(2);
    for (let i = 0; i < 2; i++) {
      await rows.nth(i).getByTestId('connection-test').click();
      await expect.poll(() => rows.nth(i).getByTestId('connection-status').getAttribute('data-state')).toBe('ok');
      expect(await rows.nth(i).getByTestId('connection-status').textContent()).toContain('HTTP 200');
    }
    await page.screenshot({ path: path.join(SHOTS, 'flows-9-built-in-connections-ok.png') });
    await page.getByTestId('connections-close').click();
  });
});

describe('retry and fix', () => {
  const counts = async () => ({
    read: Number(await text('count-read')),
    succeeded: Number(await text('count-succeeded')),
    failed: Number(await text('count-failed')),
  });
  const runAndWait = async () => {
    await page.getByTestId('run-button').click();
    await expect.poll(() => text('run-status'), { timeout: 30_000 }).toBe('succeeded');
  };

  it('retries on the current version, preselected and said when the flow changed: the fixed records succeed', async () => {
    await api.call('createFlow', { body: quickFlow('Fix then retry') });
    await openApp();
    await openFlowNamed('Fix then retry');
    await runAndWait();
    expect(await counts()).toEqual({ read: 6, succeeded: 3, failed: 3 });

    // the user fixes the map and saves: version 2
    await page.getByTestId('node-check').click();
    await page.getByTestId('param-fields.0.expression').fill('n');
    await page.getByTestId('save-button').click();
    await expect.poll(() => text('save-button')).toBe('Saved');

    await page.getByTestId('retry-button').click();
    await page.getByTestId('retry-dialog').waitFor({ state: 'visible' });
    await expect
      .poll(() => text('retry-version-note'))
      .toBe('The flow changed since this run: it ran version 1, the current version is 2.');
    await expect.poll(() => page.getByTestId('retry-version-current').isChecked()).toBe(true);
    await expect.poll(() => text('retry-reach-at')).toBe('The retry runs the new settings of “check”.');
    expect(await page.getByTestId('retry-reach-before').count()).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'flows-10-retry-dialog.png') });
    await page.getByTestId('retry-confirm').click();
    await expect.poll(() => text('run-status'), { timeout: 30_000 }).toBe('succeeded');
    await expect.poll(() => counts()).toEqual({ read: 3, succeeded: 3, failed: 0 });
    const retried = (await api.call('listRuns', { query: { trigger: 'retry', limit: 1 } })).items[0];
    expect(retried).toMatchObject({ flowVersion: 2, runNumber: 2, counts: { read: 3, succeeded: 3, failed: 0 } });
    // nothing left to retry: no Retry button
    await expect.poll(() => page.getByTestId('retry-button').count()).toBe(0);
    // the run history shows the retry at once
    await page.getByTestId('dock-tab-runs').click();
    await expect.poll(() => page.getByTestId('runs-row').count()).toBe(2);
    await expect.poll(() => page.getByTestId('runs-row').first().textContent()).toContain('retry');
  });

  it('retries one record with an edited payload, checked as JSON while typing, and its history refreshes', async () => {
    await api.call('createFlow', { body: quickFlow('Edit then retry') });
    await openApp();
    await openFlowNamed('Edit then retry');
    await runAndWait();
    await page.getByTestId('dock-tab-failed').click();
    await page.getByTestId('failed-record').filter({ hasText: 'r1' }).click();
    await page.getByTestId('record-detail').waitFor({ state: 'visible' });
    await expect.poll(() => page.getByTestId('history-entry').count()).toBe(1);

    await page.getByTestId('edit-payload').click();
    const editor = page.getByTestId('payload-editor');
    await editor.fill('{ "k": "r1", "n": 1, "fixed": tru }');
    await expect.poll(() => text('payload-status')).toMatch(/^Not valid JSON: /);
    expect(await page.getByTestId('retry-record').isDisabled()).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'flows-11-payload-invalid.png') });
    await editor.fill('{ "k": "r1", "n": 1, "fixed": true }');
    await expect.poll(() => text('payload-status')).toBe('Edited: the retry sends this payload.');
    await page.getByTestId('retry-record').click();
    await page.getByTestId('retry-dialog').waitFor({ state: 'visible' });
    expect(await text('retry-dialog')).toContain('Retry 1 failed record');
    expect(await text('retry-dialog')).toContain('with the edited payload');
    expect(await text('retry-version-note')).toBe('This run ran the current version (1).');
    expect(await page.getByTestId('retry-version-original').count()).toBe(0);
    await page.getByTestId('retry-confirm').click();
    await expect.poll(() => counts(), { timeout: 30_000 }).toEqual({ read: 1, succeeded: 1, failed: 0 });
    // the record's history, still open, now shows the retry's outcome
    await expect.poll(() => page.getByTestId('history-entry').count(), { timeout: 10_000 }).toBe(2);
    expect(await page.getByTestId('history-entry').first().textContent()).toContain('succeeded');
    await page.screenshot({ path: path.join(SHOTS, 'flows-12-retried-record-history.png') });
  });

  it('retries a selection of failed records together', async () => {
    await page.getByTestId('dock-tab-runs').click();
    await page.getByTestId('runs-row').last().click();
    await page.getByTestId('dock-tab-failed').click();
    await expect.poll(() => page.getByTestId('failed-record').count()).toBe(3);
    // r5's payload fixed (kept, not retried yet); r3 left as it was
    await page.getByTestId('failed-record').filter({ hasText: 'r5' }).click();
    await page.getByTestId('edit-payload').click();
    await page.getByTestId('payload-editor').fill('{ "k": "r5", "n": 5, "fixed": true }');
    await expect.poll(() => page.getByTestId('failed-record').filter({ hasText: 'edited' }).count()).toBe(1);
    await page.getByTestId('pick-record').nth(1).check();
    await page.getByTestId('pick-record').nth(2).check();
    expect(await text('retry-picked')).toBe('Retry 2 selected');
    await page.screenshot({ path: path.join(SHOTS, 'flows-13-picked.png') });
    await page.getByTestId('retry-picked').click();
    expect(await text('retry-dialog')).toContain('Retry 2 failed records');
    expect(await text('retry-dialog')).toContain('1 of them with its edited payload');
    await page.getByTestId('retry-confirm').click();
    // only they were read: r5 with its fix succeeds, r3 fails again
    await expect.poll(() => counts(), { timeout: 30_000 }).toEqual({ read: 2, succeeded: 1, failed: 1 });
  });
});

describe('retry and fix on the demo', () => {
  it('a work order the ERP refused is fixed by editing its payload and succeeds when retried alone', async () => {
    await openApp();
    await openFlowNamed('Work orders → ERP');
    await page.getByTestId('run-button').click();
    await expect.poll(() => text('run-status'), { timeout: 90_000, interval: 250 }).toBe('succeeded');
    const failed = Number(await text('count-failed'));
    expect(failed).toBeGreaterThan(0);
    expect(await text('retry-button')).toBe(`Retry ${failed} failed`);

    // fixing the map does not reach records that failed at the write after it: the dialog says so
    await page.getByTestId('node-to-erp-shape').click();
    await page.getByTestId('param-fields.2.expression').fill('assetKey ? assetKey : "UNASSIGNED"');
    await page.getByTestId('save-button').click();
    await expect.poll(() => text('save-button')).toBe('Saved');
    await page.getByTestId('retry-button').click();
    expect(await page.getByTestId('retry-version-current').isChecked()).toBe(true);
    await expect
      .poll(() => text('retry-reach-before'))
      .toContain('the changes to “Map to ERP work order” before it do not reach them');
    await page.screenshot({ path: path.join(SHOTS, 'flows-15-demo-retry-upstream-change.png') });
    await page.getByTestId('retry-cancel').click();

    await page.getByTestId('dock-tab-failed').click();
    await page.getByTestId('failed-record').first().click();
    const reason = await text('record-error');
    const field = /(\w+) is required/.exec(reason)?.[1];
    expect(field, reason).toBeDefined();
    await page.getByTestId('edit-payload').click();
    const editor = page.getByTestId('payload-editor');
    const payload = JSON.parse(await editor.inputValue()) as Record<string, unknown>;
    // the ERP requires a title and an asset: give the ones missing
    const fixed = {
      ...payload,
      title: payload.title || 'Untitled work order',
      assetKey: payload.assetKey || 'UNASSIGNED',
    };
    await editor.fill(JSON.stringify(fixed, null, 2));
    await expect.poll(() => text('payload-status')).toBe('Edited: the retry sends this payload.');
    await page.getByTestId('retry-record').click();
    expect(await text('retry-version-note')).toBe(
      'The flow changed since this run: it ran version 1, the current version is 2.',
    );
    await page.getByTestId('retry-confirm').click();
    await expect.poll(() => text('run-number'), { timeout: 10_000 }).toBe('Run 2 of this flow');
    await expect.poll(() => text('run-status'), { timeout: 30_000, interval: 250 }).toBe('succeeded');
    await expect.poll(() => text('count-succeeded')).toBe('1');
    expect(await text('count-read')).toBe('1');
    await expect.poll(() => page.getByTestId('history-entry').count(), { timeout: 10_000 }).toBe(2);
    expect(await page.getByTestId('history-entry').first().textContent()).toContain('succeeded');
    await page.screenshot({ path: path.join(SHOTS, 'flows-14-demo-record-fixed.png') });
  });
});

describe('at 1024×700', () => {
  it('the list tools, the unsaved-changes dialog and the retry dialog fit the window', async () => {
    await page.setViewportSize({ width: 1024, height: 700 });
    await openApp();
    await openFlowNamed('Fix then retry');
    const inside = async (testId: string) => {
      const box = await page.getByTestId(testId).boundingBox();
      expect(box, testId).not.toBeNull();
      const b = box as { x: number; y: number; width: number; height: number };
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.y).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width).toBeLessThanOrEqual(1024);
      expect(b.y + b.height).toBeLessThanOrEqual(700);
    };
    await inside('flow-search');
    await inside('archived-filter');
    await page.getByTestId('palette-item-filter').click();
    await page.getByTestId('flow-list-item').filter({ hasText: 'Odd numbers' }).click();
    await inside('unsaved-dialog');
    await page.screenshot({ path: path.join(SHOTS, 'flows-16-unsaved-1024.png') });
    await page.getByTestId('unsaved-discard').click();
    await expect.poll(() => text('flow-name')).toBe('Odd numbers');
    await page.getByTestId('run-button').click();
    await expect.poll(() => text('run-status'), { timeout: 30_000 }).toBe('succeeded');
    await page.getByTestId('retry-button').click();
    await inside('retry-dialog');
    await page.screenshot({ path: path.join(SHOTS, 'flows-17-retry-1024.png') });
    await page.getByTestId('retry-cancel').click();
    await page.setViewportSize({ width: 1440, height: 900 });
  });
});
