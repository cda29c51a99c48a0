import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FlowDetail } from '@sluice/shared';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { api, REPO_ROOT, startServer, TEST_TOKEN } from '../support/server.js';

/** A chain of `n` map steps after a trigger and a source, with a few error branches: a big flow to open. */
function bigFlow(n: number) {
  const nodes: Record<string, unknown>[] = [
    { id: 'start', type: 'manual' },
    { id: 'src', type: 'generate', params: { count: 10 } },
  ];
  const edges: Record<string, unknown>[] = [{ source: 'start', target: 'src' }];
  let previous = 'src';
  for (let i = 0; nodes.length < n; i++) {
    const id = `m${i}`;
    nodes.push({ id, type: 'map', params: { fields: [{ name: `f${i}`, expression: 'amount * 2' }] } });
    edges.push({ source: previous, target: id });
    if (i % 20 === 19 && nodes.length < n) {
      nodes.push({ id: `e${i}`, type: 'error-branch' });
      edges.push({ source: id, sourcePort: 'error', target: `e${i}` });
    }
    previous = id;
  }
  return { format: 1, name: `Big flow ${n}`, nodes, edges };
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
};

/** How many keystrokes with autocompletion open are timed. */
const KEYSTROKES = 200;

/**
 * Typing in an expression field with autocompletion open: for each key pressed while the completion
 * list shows, the time from its keydown to the next animation frame (its requestAnimationFrame
 * callback), counted only when the editor shows the key by then. Typed as a user types `$substring`
 * after ` & `, over and over (a key every 120 ms, about 8 a second), so completion stays open; each key
 * also reaches the flow document (problems re-checked, canvas redrawn) as React schedules it.
 */
async function typeInExpression(
  browser: import('playwright-core').Browser,
  url: string,
  flowName: string,
  nodeId: string,
): Promise<number[]> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  try {
    await page.goto(`${url}/#token=${TEST_TOKEN}`);
    await page.locator('[data-testid="flow-list-item"]', { hasText: flowName }).click();
    await page.getByTestId(`node-${nodeId}`).click();
    const field = page.locator('[data-testid="inspector"] .cm-content').first();
    await field.click();
    await page.keyboard.press('ControlOrMeta+End');
    await page.evaluate(`(() => {
      window.__keys = [];
      document.addEventListener('keydown', (event) => {
        if (!event.target.closest || !event.target.closest('.cm-editor')) return;
        const open = document.querySelector('.cm-tooltip-autocomplete') !== null;
        const t0 = performance.now();
        const before = event.target.closest('.cm-editor').querySelector('.cm-content').textContent.length;
        requestAnimationFrame(() => {
          const after = document.querySelector('.cm-editor .cm-content').textContent.length;
          window.__keys.push({ open, ms: performance.now() - t0, updated: after !== before });
        });
      }, true);
    })()`);
    const samples = async () =>
      (await page.evaluate('window.__keys')) as { open: boolean; ms: number; updated: boolean }[];
    for (let round = 0; round < 60; round++) {
      await page.keyboard.type(' & $substring', { delay: 120 });
      await page.keyboard.press('Escape');
      if ((await samples()).filter((s) => s.open && s.updated).length >= KEYSTROKES) break;
    }
    await page.waitForTimeout(100);
    const all = await samples();
    const timed = all.filter((s) => s.open && s.updated).map((s) => s.ms);
    if (timed.length < KEYSTROKES / 2) throw new Error(`only ${timed.length} keystrokes with completion open`);
    return timed.slice(0, KEYSTROKES);
  } finally {
    await page.close();
  }
}

/**
 * Time for a flow to open in the browser, from the click in the flow list with another flow shown,
 * until it is interactive (its last node drawn and two more frames painted), for a 300-node flow and, as the baseline measured in the same run, the
 * 8-node demo flow; and the size of the built editor.
 */
/**
 * Test runs of the demo from the editor: with the map node selected, the time from a click on Test
 * to its 20 output rows shown in the node data panel (three tests in one page, each timed).
 */
async function timeTestRuns(browser: Browser, url: string, demoName: string): Promise<number[]> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  try {
    await page.goto(`${url}/#token=${TEST_TOKEN}`);
    await page.locator('[data-testid="flow-list-item"]', { hasText: demoName }).first().click();
    await page.getByTestId('node-to-erp-shape').click();
    const times: number[] = [];
    let last = '';
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await page.getByTestId('test-button').click();
      // this test's data (a new run id), not the previous one's
      const panel = page.locator(`[data-testid="node-data-panel"][data-state="done"]:not([data-run="${last}"])`);
      await panel.waitFor({ timeout: 60_000 });
      last = (await panel.getAttribute('data-run')) ?? '';
      await page.locator('[data-testid="node-data-row"]').nth(19).waitFor({ timeout: 60_000 });
      times.push(performance.now() - t0);
    }
    return times;
  } finally {
    await page.close();
  }
}

export async function editorBench(nodes: number) {
  const server = await startServer();
  const browser = await launchChromium();
  try {
    const flows = await api<{ items: FlowDetail[] }>(`${server.url}/api/flows`);
    const demo = flows.items[0] as FlowDetail;
    const big = await api<FlowDetail>(`${server.url}/api/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(bigFlow(nodes)),
    });
    const bigLast = String(big.document.nodes.at(-1)?.id);
    const open = async (flowId: string, lastNode: string) => {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      await page.goto(`${server.url}/#token=${TEST_TOKEN}`);
      await page.getByTestId('flow-list-item').first().waitFor();
      // start from the other flow, fully drawn: the page opens the first flow of the list by itself,
      // and timing a click on the flow already opening would time the rest of that opening instead
      const [otherName, otherLast] = flowId === demo.id ? [big.name, bigLast] : [demo.name, 'dead-letter'];
      await page.locator(`[data-testid="flow-list-item"]`, { hasText: otherName }).click();
      await page.getByTestId(`node-${otherLast}`).waitFor({ state: 'attached', timeout: 60_000 });
      await page.evaluate('new Promise((resolve) => setTimeout(resolve, 300))');
      const item = page.locator(`[data-testid="flow-list-item"]`, {
        hasText: flowId === demo.id ? demo.name : big.name,
      });
      const t0 = performance.now();
      await item.click();
      const node = page.getByTestId(`node-${lastNode}`);
      await node.waitFor({ state: 'attached', timeout: 60_000 });
      // interactive: the page has drawn it and its main thread is free to paint two more frames
      await page.evaluate(
        'new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve())))',
      );
      const ms = performance.now() - t0;
      await page.close();
      return ms;
    };
    const times = { demo: [] as number[], big: [] as number[] };
    for (let i = 0; i < 3; i++) {
      times.demo.push(await open(demo.id, 'dead-letter'));
      times.big.push(await open(big.id, bigLast));
    }
    const keystrokes = await typeInExpression(browser, server.url, demo.name, 'to-erp-shape');
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number;
    const testRuns = await timeTestRuns(browser, server.url, demo.name);
    const dist = path.join(REPO_ROOT, 'editor', 'dist', 'assets');
    let bytes = 0;
    let gzipped = 0;
    for (const f of readdirSync(dist)) {
      const file = path.join(dist, f);
      bytes += statSync(file).size;
      gzipped += gzipSync(readFileSync(file)).length;
    }
    return {
      bigNodes: big.document.nodes.length,
      openBigMs: median(times.big),
      openDemoMs: median(times.demo),
      testRunMs: median(testRuns),
      bytes,
      gzipped,
      keystrokeP50: quantile(keystrokes, 0.5),
      keystrokeP99: quantile(keystrokes, 0.99),
      keystrokes: keystrokes.length,
    };
  } finally {
    await browser.close();
    await server.stop();
  }
}
