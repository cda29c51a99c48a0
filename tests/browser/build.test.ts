import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHOTS, startEditor } from '../support/browser.js';
import { api, REPO_ROOT, type RunningServer } from '../support/server.js';

let server: RunningServer;
let page: Page;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ server, page, close } = await startEditor());
});

afterAll(() => close?.());

const text = async (testId: string) => (await page.getByTestId(testId).textContent())?.trim() ?? '';

/** Drags from one port handle to another with the mouse, as a user connects two nodes. */
async function connect(from: Locator, to: Locator): Promise<void> {
  const a = await from.boundingBox();
  const b = await to.boundingBox();
  if (!a || !b) throw new Error('handle not visible');
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 });
  await page.mouse.up();
}

const out = (nodeId: string, port = 'out') =>
  page.locator(`[data-testid="node-${nodeId}"] .react-flow__handle.source.handle-${port}`);
const input = (nodeId: string) => page.locator(`[data-testid="node-${nodeId}"] .react-flow__handle.target`);

describe('building a flow in the editor', () => {
  it('drags steps from the palette, connects them, refuses a forbidden edge, undoes, saves and runs', async () => {
    await page.getByTestId('new-flow-button').click();
    await page.getByTestId('new-blank-flow').click();
    await expect.poll(() => page.getByTestId('flow-name').textContent()).toBe('Untitled flow');
    const canvas = page.getByTestId('canvas');
    const drop = async (type: string, x: number, y: number) =>
      page.getByTestId(`palette-item-${type}`).dragTo(canvas, { targetPosition: { x, y } });
    await drop('manual', 110, 200);
    await drop('generate', 330, 200);
    await page.getByTestId('palette-search').fill('batch');
    expect(await page.getByTestId('palette-item-webhook').count()).toBe(0);
    await drop('batch', 550, 200);
    await page.getByTestId('palette-search').fill('');
    await drop('delay', 770, 200);
    await drop('collect', 990, 200);
    for (const id of ['manual-1', 'generate-1', 'batch-1', 'delay-1', 'collect-1']) {
      await page.getByTestId(`node-${id}`).waitFor({ state: 'visible' });
    }
    await page.screenshot({ path: path.join(SHOTS, '6-dropped.png') });

    await connect(out('manual-1'), input('generate-1'));
    await connect(out('generate-1'), input('batch-1'));
    await connect(out('batch-1'), input('delay-1'));
    await connect(out('delay-1'), input('collect-1'));
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(4);

    // records may not go round in a cycle: the editor refuses the edge and says why
    await connect(out('batch-1'), input('generate-1'));
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(4);
    await expect
      .poll(() => text('editor-message'))
      .toContain('Cannot connect: that would make records go round in a cycle');

    // undo and redo the last connection
    await page.getByTestId('undo-button').click();
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(3);
    await page.getByTestId('redo-button').click();
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(4);

    // the inspector: a batch size and a delay, with what they mean for this flow
    await page.getByTestId('node-batch-1').click();
    await page.getByTestId('param-size').fill('100');
    await expect.poll(() => text('inspector-meaning')).toContain('1,000 records → 10 batches of 100');
    await page.screenshot({ path: path.join(SHOTS, '7-inspector-batch.png') });
    await page.getByTestId('node-delay-1').click();
    await page.getByTestId('param-ms').fill('50');
    await expect.poll(() => text('inspector-meaning')).toMatch(/9 × 50 ms/);

    await page.getByTestId('save-button').click();
    await expect.poll(() => text('editor-message')).toMatch(/Saved as version 2\./);
    await page.screenshot({ path: path.join(SHOTS, '7-built-and-saved.png') });

    // what the editor saved is what the server has
    const flows = await api<{ items: { id: string; name: string }[] }>(`${server.url}/api/flows`);
    const built = flows.items.find((f) => f.name === 'Untitled flow');
    const saved = await api<{ document: { nodes: { type: string }[]; edges: unknown[] } }>(
      `${server.url}/api/flows/${built?.id}`,
    );
    expect(saved.document.nodes.map((n) => n.type)).toEqual(['manual', 'generate', 'batch', 'delay', 'collect']);
    expect(saved.document.edges).toHaveLength(4);
    const params = Object.fromEntries(
      (saved.document.nodes as unknown as { id: string; params: Record<string, unknown> }[]).map((n) => [
        n.id,
        n.params,
      ]),
    );
    expect(params['batch-1']).toMatchObject({ size: 100 });
    expect(params['delay-1']).toMatchObject({ ms: 50 });

    await page.getByTestId('run-button').click();
    await expect.poll(() => text('run-status'), { timeout: 60_000, interval: 250 }).toBe('succeeded');
    // generate's default is 1,000 records; the batch node counts them in batches of 50
    expect(Number(await text('count-read'))).toBe(1000);
    expect(Number(await text('count-succeeded'))).toBe(1000);
    await expect.poll(() => page.getByTestId('node-batch-1').textContent()).toContain('1k');
    const runs = await api<{ items: { id: string }[] }>(`${server.url}/api/runs?flowId=${built?.id}`);
    const run = await api<{ batches: unknown[] }>(`${server.url}/api/runs/${runs.items[0]?.id}`);
    expect(run.batches).toHaveLength(10);
    await page.screenshot({ path: path.join(SHOTS, '8-built-flow-ran.png') });

    // a schedule: another trigger, its cron read back in words, then published
    await drop('schedule', 110, 420);
    await connect(out('schedule-1'), input('generate-1'));
    await page.getByTestId('node-schedule-1').click();
    await page.getByTestId('param-cron').fill('*/15 * * * *');
    await page.getByTestId('param-timezone').fill('Europe/Berlin');
    await expect.poll(() => text('schedule-meaning'), { timeout: 10_000 }).toContain('Every 15 minutes');
    await expect.poll(() => page.getByTestId('schedule-next').locator('li').count()).toBe(5);
    await page.screenshot({ path: path.join(SHOTS, '9-schedule.png') });
    await page.getByTestId('save-button').click();
    await expect.poll(() => text('editor-message')).toMatch(/Saved as version 3\./);
    await page.getByTestId('publish-button').click();
    await expect.poll(() => text('editor-message')).toContain('Version 3 is published');
    const schedule = await api<{ schedules: { cron: string; timezone: string; next: string[] }[] }>(
      `${server.url}/api/flows/${built?.id}/schedule`,
    );
    expect(schedule.schedules[0]).toMatchObject({ cron: '*/15 * * * *', timezone: 'Europe/Berlin' });
    expect(schedule.schedules[0]?.next).toHaveLength(5);

    // turned off, the schedule has no next fires
    await page.getByTestId('enabled-toggle').click();
    await expect.poll(() => text('editor-message')).toContain('Schedules and webhooks are off');
    const off = await api<{ enabled: boolean; schedules: { next: string[] }[] }>(
      `${server.url}/api/flows/${built?.id}/schedule`,
    );
    expect(off.enabled).toBe(false);
    expect(off.schedules[0]?.next).toEqual([]);
  });

  it('starts a flow from an example', async () => {
    await page.getByTestId('new-flow-button').click();
    await page.getByTestId('new-from-template').filter({ hasText: 'Orders from a webhook' }).click();
    await expect.poll(() => page.getByTestId('flow-name').textContent()).toBe('Orders from a webhook');
    for (const id of ['incoming', 'batch', 'big', 'keep']) await page.getByTestId(`node-${id}`).waitFor();
    expect(await page.getByTestId('problem').count()).toBe(0);
  });

  it('imports a flow from a JSON file and exports the open one', async () => {
    await page
      .getByTestId('import-file')
      .setInputFiles(path.join(REPO_ROOT, 'examples', 'nightly-work-orders.flow.json'));
    await expect.poll(() => page.getByTestId('flow-name').textContent()).toBe('Nightly work orders → ERP');
    await page.getByTestId('node-start').waitFor();
    const download = page.waitForEvent('download');
    await page.getByTestId('export-button').click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('nightly-work-orders-erp.flow.json');
    const exported = JSON.parse(readFileSync((await file.path()) as string, 'utf8')) as {
      name: string;
      nodes: unknown[];
    };
    expect(exported.name).toBe('Nightly work orders → ERP');
    expect(exported.nodes).toHaveLength(8);
  });

  it('adds a connection with limits and a secret that is shown masked only, and tests it', async () => {
    const { items } = await api<{ items: { name: string; baseUrl: string }[] }>(`${server.url}/api/connections`);
    const maintenance = items.find((c) => c.name === 'maintenance-sandbox');
    await page.getByTestId('connections-button').click();
    await page.getByTestId('connections-panel').waitFor();
    await page.getByTestId('connection-new').click();
    await page.getByTestId('connection-name').fill('eam');
    await page.getByTestId('connection-baseUrl').fill(maintenance?.baseUrl ?? '');
    await page.getByTestId('connection-auth').selectOption('bearer');
    await page.getByTestId('connection-secret').fill('sandbox-maintenance-token');
    await page.getByTestId('connection-checkPath').fill('/api/eam/work-orders?limit=1');
    // the limits are checked before anything is sent, their messages under their fields
    const limits = page.getByTestId('connection-limits');
    await limits.getByTestId('connection-limit-concurrent').fill('0');
    await limits.getByTestId('connection-limit-per-second').fill('fast');
    await page.getByTestId('connection-save').click();
    await expect
      .poll(() => limits.getByTestId('connection-field-error').allTextContents())
      .toEqual(['A whole number from 1 to 1000.', 'A number above 0, at most 10000 (0.5: one request every 2 s).']);
    expect(await limits.textContent()).toContain('Shared by every run and every worker using this connection');
    await limits.getByTestId('connection-limit-concurrent').fill('4');
    await limits.getByTestId('connection-limit-per-second').fill('20');
    expect(await limits.getByTestId('connection-field-error').count()).toBe(0);
    await page.getByTestId('connection-save').click();
    const row = page.locator('[data-testid="connection-row"][data-name="eam"]');
    await row.waitFor();
    await expect.poll(() => row.getByTestId('connection-secret-masked').textContent()).toBe('••••oken');
    // the limits were stored, and the row shows them as the server returns them
    await expect
      .poll(() => row.getByTestId('connection-limits-shown').textContent())
      .toBe('4 at a time, 20 requests/s');
    const stored = await api<{ limits: unknown }>(`${server.url}/api/connections/eam`);
    expect(stored.limits).toEqual({ maxConcurrent: 4, maxPerSecond: 20, adaptive: false });
    expect(await page.content()).not.toContain('sandbox-maintenance-token');
    await row.getByTestId('connection-test').click();
    await expect.poll(() => row.getByTestId('connection-status').getAttribute('data-state')).toBe('ok');
    await page.screenshot({ path: path.join(SHOTS, '14-connections.png') });
  });
});
