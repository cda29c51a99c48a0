import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { AlertDelivery } from '@sluice/shared';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHOTS, startEditor } from '../support/browser.js';
import { api, type RunningServer } from '../support/server.js';

/**
 * The Alerts panel of a flow: rules made in the editor, the demo run (86 of 1,000 records fail
 * against the sandbox ERP) raising them, and the deliveries with their status, as a person sees them.
 */

interface Receiver {
  url: string;
  got: { headers: Record<string, string | string[] | undefined>; body: string }[];
  server: Server;
}

/** An HTTP receiver on loopback answering `statuses` in turn, then `otherwise`. */
async function receiver(statuses: number[], otherwise = 200): Promise<Receiver> {
  const got: Receiver['got'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(statuses.shift() ?? otherwise).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, server };
}

let server: RunningServer;
let page: Page;
let close: (() => Promise<void>) | undefined;
const receivers: Receiver[] = [];

beforeAll(async () => {
  // retries 200 ms apart, at most 3 attempts: the deliveries settle while the test watches
  ({ server, page, close } = await startEditor(undefined, {
    SLUICE_ALERT_RETRY_MS: '200',
    SLUICE_ALERT_ATTEMPTS: '3',
  }));
});

afterAll(async () => {
  await close?.();
  for (const r of receivers) await new Promise((resolve) => r.server.close(resolve));
});

describe('alerts in the flow settings', () => {
  it('adds rules, shows them, and shows the deliveries the demo run made with their status', async () => {
    const flaky = await receiver([500, 500]);
    const down = await receiver([], 503);
    receivers.push(flaky, down);

    await page.getByTestId('flow-list-item').filter({ hasText: 'Work orders → ERP' }).first().click();
    await page.getByTestId('node-erp-write').waitFor();
    await page.getByTestId('alerts-button').click();
    const panel = page.getByTestId('alerts-panel');
    await panel.getByTestId('alerts-empty').waitFor();

    // a signed webhook when 50 or more records fail; a refused secret first
    await panel.getByTestId('alert-add').click();
    await panel.getByTestId('alert-minFailed').fill('50');
    await panel.getByTestId('alert-minPercent').fill('');
    await panel.getByTestId('alert-url').fill(flaky.url);
    await panel.getByTestId('alert-secret').fill('short');
    await panel.getByTestId('alert-save').click();
    await expect.poll(() => panel.getByTestId('alert-form').textContent()).toContain('at least 8 characters');
    await page.screenshot({ path: path.join(SHOTS, '31-alert-rule-form.png') });
    await panel.getByTestId('alert-secret').fill('editor-alert-secret');
    await panel.getByTestId('alert-save').click();
    await expect.poll(() => panel.getByTestId('alert-rule').count()).toBe(1);

    // a Slack-compatible webhook when 5 % or more fail, to a receiver that is down
    await panel.getByTestId('alert-add').click();
    await panel.getByTestId('alert-name').fill('Rejects to the ops channel');
    await panel.getByTestId('alert-channel').selectOption('slack');
    await panel.getByTestId('alert-url').fill(down.url);
    await panel.getByTestId('alert-save').click();
    await expect
      .poll(() => panel.getByTestId('alert-rule').allTextContents())
      .toEqual([
        expect.stringContaining('when a run succeeds with 50 or more of its records failed'),
        expect.stringContaining('when a run succeeds with 5 % or more of its records failed'),
      ]);

    // a third, removed again
    await panel.getByTestId('alert-add').click();
    await panel.getByTestId('alert-kind').selectOption('run-failed');
    await panel.getByTestId('alert-channel').selectOption('slack');
    await panel.getByTestId('alert-url').fill(down.url);
    await panel.getByTestId('alert-save').click();
    await expect.poll(() => panel.getByTestId('alert-rule').count()).toBe(3);
    await panel.getByTestId('alert-remove').nth(2).click();
    await expect.poll(() => panel.getByTestId('alert-rule').count()).toBe(2);

    await page.getByTestId('run-button').click();
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 60_000 }).toBe('succeeded');

    // the panel reads the deliveries again by itself
    await expect
      .poll(
        () =>
          panel.locator('[data-testid="alert-delivery"]').evaluateAll((els) => els.map((e) => e.dataset.status).sort()),
        {
          timeout: 30_000,
        },
      )
      .toEqual(['delivered', 'failed']);
    const failed = panel.locator('[data-testid="alert-delivery"][data-status="failed"]');
    expect(await failed.textContent()).toContain('3 attempts');
    expect(await failed.textContent()).toContain('Last error: HTTP 503');
    const delivered = panel.locator('[data-testid="alert-delivery"][data-status="delivered"]');
    expect(await delivered.textContent()).toContain('86 of 1,000 records failed');

    // what the receivers got: the signed one on its third try, the other three times, refused
    expect(flaky.got).toHaveLength(3);
    const last = flaky.got[2];
    const signature = `sha256=${createHmac('sha256', 'editor-alert-secret')
      .update(last?.body ?? '')
      .digest('hex')}`;
    expect(last?.headers['x-sluice-signature']).toBe(signature);
    expect(down.got).toHaveLength(3);
    expect(JSON.parse(down.got[0]?.body ?? '{}')).toEqual({
      text: expect.stringContaining('86 of 1,000 records failed'),
    });
    // the same, by the API
    const { items } = await api<{ items: AlertDelivery[] }>(`${server.url}/api/alert-deliveries?limit=10`);
    expect(items.map((d) => [d.status, d.attempts, d.channel]).sort()).toEqual([
      ['delivered', 3, 'webhook'],
      ['failed', 3, 'slack'],
    ]);

    await page.screenshot({ path: path.join(SHOTS, '30-alerts-panel.png') });

    // "Send test" on each rule: the webhook's receiver now takes it; the Slack one is still down,
    // and the reason shows under the rule, after one attempt
    const rules = panel.getByTestId('alert-rule');
    await rules.nth(0).getByTestId('alert-test').click();
    const okResult = rules.nth(0).getByTestId('alert-test-result');
    await okResult.waitFor();
    expect(await okResult.getAttribute('data-status')).toBe('delivered');
    expect(await okResult.textContent()).toBe('Test alert delivered.');
    await rules.nth(1).getByTestId('alert-test').click();
    const downResult = rules.nth(1).getByTestId('alert-test-result');
    await downResult.waitFor();
    expect(await downResult.getAttribute('data-status')).toBe('failed');
    expect(await downResult.textContent()).toMatch(/^Test alert not delivered: HTTP 503/);
    expect(flaky.got).toHaveLength(4);
    expect(JSON.parse(flaky.got[3]?.body ?? '{}')).toMatchObject({ test: true, run: null });
    expect(down.got).toHaveLength(4);
    // listed with the others, marked as tests
    await expect
      .poll(() =>
        panel
          .locator('[data-testid="alert-delivery"]')
          .evaluateAll((els) => els.filter((e) => e.textContent?.includes('a test of the alert rule')).length),
      )
      .toBe(2);
    const tests = (await api<{ items: AlertDelivery[] }>(`${server.url}/api/alert-deliveries?limit=10`)).items.filter(
      (d) => d.test,
    );
    expect(tests.map((d) => [d.status, d.attempts, d.channel])).toEqual([
      ['failed', 1, 'slack'],
      ['delivered', 1, 'webhook'],
    ]);
    await page.screenshot({ path: path.join(SHOTS, '32-alert-tests.png') });
  }, 120_000);
});
