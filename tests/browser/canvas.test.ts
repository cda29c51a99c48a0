/// <reference lib="dom" />
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPage, SHOTS } from '../support/browser.js';
import { REPO_ROOT, type RunningServer, startServer, TEST_TOKEN } from '../support/server.js';

let server: RunningServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchChromium();
  page = await openPage(browser, { width: 1280, height: 720 });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

type Box = { x: number; y: number; width: number; height: number };
const intersects = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const inside = (inner: Box, outer: Box) =>
  inner.x >= outer.x - 0.5 &&
  inner.y >= outer.y - 0.5 &&
  inner.x + inner.width <= outer.x + outer.width + 0.5 &&
  inner.y + inner.height <= outer.y + outer.height + 0.5;

/** What the canvas shows: its box, every node's box, the zoom buttons' and minimap's boxes, the zoom. */
async function canvasGeometry() {
  return page.evaluate(() => {
    const box = (el: Element | null) => {
      if (!el) return null;
      const r = el.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    };
    const viewport = document.querySelector('.react-flow__viewport') as HTMLElement | null;
    const zoom = viewport ? new DOMMatrix(getComputedStyle(viewport).transform).a : 0;
    return {
      pane: box(document.querySelector('.canvas .react-flow')) as Box,
      nodes: [...document.querySelectorAll('.react-flow__node')].map((n) => ({
        id: n.getAttribute('data-id'),
        ...(box(n) as Box),
      })),
      controls: box(document.querySelector('.react-flow__controls')),
      minimap: box(document.querySelector('.react-flow__minimap')),
      zoom,
    };
  });
}

/** Waits until the view has settled (two frames without a change of zoom or pan). */
async function settled() {
  await page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        let last = '';
        let same = 0;
        const tick = () => {
          const t = getComputedStyle(document.querySelector('.react-flow__viewport') as Element).transform;
          same = t === last ? same + 1 : 0;
          last = t;
          if (same >= 3) resolve();
          else requestAnimationFrame(tick);
        };
        tick();
      }),
  );
}

async function expectWholeFlowInView(expectedNodes: number) {
  await settled();
  const g = await canvasGeometry();
  expect(g.nodes.length).toBe(expectedNodes);
  for (const n of g.nodes) expect(inside(n, g.pane), `node ${n.id} inside the canvas`).toBe(true);
  for (const tool of [g.controls, g.minimap]) {
    if (!tool) continue;
    for (const n of g.nodes) expect(intersects(tool, n), `node ${n.id} clear of the view tools`).toBe(false);
  }
  return g;
}

/** The on-screen size of every count shown on a node: rendered height and font size × zoom. */
async function countTextSizes() {
  return page.evaluate(() => {
    const viewport = document.querySelector('.react-flow__viewport') as HTMLElement;
    const zoom = new DOMMatrix(getComputedStyle(viewport).transform).a;
    const shown = [...document.querySelectorAll('.node-badge, .node-summary-part, .node-live')].filter(
      (el) => (el as HTMLElement).offsetParent !== null,
    );
    return shown.map((el) => {
      const style = getComputedStyle(el);
      return {
        text: el.textContent ?? '',
        screenFont: Number.parseFloat(style.fontSize) * zoom,
        height: el.getBoundingClientRect().height,
        colour: style.color,
      };
    });
  });
}

const DEMO_NODES = 8;
const text = async (testId: string) => (await page.getByTestId(testId).textContent())?.trim() ?? '';

describe('the canvas in a real browser', () => {
  it('fits the demo flow when it opens at 1280×720, clear of the zoom buttons and the minimap', async () => {
    await page.goto(`${server.url}/#token=${TEST_TOKEN}`);
    await page.getByTestId('node-dead-letter').waitFor({ state: 'visible' });
    const g = await expectWholeFlowInView(DEMO_NODES);
    expect(g.controls).not.toBeNull();
    expect(g.minimap).not.toBeNull();
    await page.screenshot({ path: path.join(SHOTS, 'canvas-1-open-1280.png') });
  });

  it('shows counts no smaller than 11 px on screen, zeros muted and red only for failures', async () => {
    await page.getByTestId('run-button').click();
    await expect.poll(() => text('run-status'), { timeout: 60_000, interval: 250 }).toBe('succeeded');
    await expectWholeFlowInView(DEMO_NODES);
    const sizes = await countTextSizes();
    expect(sizes.length).toBeGreaterThan(DEMO_NODES);
    for (const s of sizes) {
      expect(s.screenFont, `"${s.text}" font on screen`).toBeGreaterThanOrEqual(11);
      expect(s.height, `"${s.text}" height on screen`).toBeGreaterThanOrEqual(11);
    }
    // the zoom that fits the demo at this size is below 0.8: nodes show the one-line summary
    const write = page.getByTestId('node-erp-write').getByTestId('node-summary');
    await expect.poll(() => write.textContent()).toMatch(/^\d+ ✓86 ✗$/);
    const colours = await page.evaluate(() =>
      [...document.querySelectorAll('[data-summary="error"]')].map((el) => ({
        text: el.textContent,
        colour: getComputedStyle(el).color,
      })),
    );
    const red = 'rgb(220, 38, 38)';
    for (const c of colours) {
      if (c.text?.startsWith('0 ')) expect(c.colour, 'a zero failure count is muted').not.toBe(red);
      else expect(c.colour, 'a failure count above zero is red').toBe(red);
    }
    expect(colours.filter((c) => c.colour === red)).toHaveLength(1);
    await page.screenshot({ path: path.join(SHOTS, 'canvas-2-counts-1280.png') });

    // zoomed in past 0.8, the counts show with their words, still at least 11 px on screen
    await page.getByRole('button', { name: 'Zoom In' }).click();
    await page.getByRole('button', { name: 'Zoom In' }).click();
    await settled();
    const zoomedIn = await countTextSizes();
    expect(zoomedIn.some((s) => s.text.startsWith('failed'))).toBe(true);
    for (const s of zoomedIn) expect(s.screenFont).toBeGreaterThanOrEqual(11);
    expect(await page.getByTestId('node-erp-write').locator('[data-count="error"]').textContent()).toBe('failed86');
    await page.screenshot({ path: path.join(SHOTS, 'canvas-3-counts-zoomed-in.png') });
  });

  it('fits again when the window changes size, and folds the minimap and zoom buttons away', async () => {
    await page.getByRole('button', { name: 'Fit View' }).click();
    await page.setViewportSize({ width: 1024, height: 700 });
    await expectWholeFlowInView(DEMO_NODES);
    await page.screenshot({ path: path.join(SHOTS, 'canvas-4-resized-1024.png') });

    await page.getByTestId('toggle-minimap').click();
    expect(await page.locator('.react-flow__minimap').count()).toBe(0);
    await page.getByTestId('fold-controls').click();
    expect(await page.locator('.react-flow__controls').count()).toBe(0);
    await expectWholeFlowInView(DEMO_NODES);
    // the choice is kept across a reload
    await page.reload();
    await page.getByTestId('node-dead-letter').waitFor({ state: 'visible' });
    expect(await page.locator('.react-flow__minimap').count()).toBe(0);
    await page.getByTestId('unfold-controls').click();
    await page.getByTestId('toggle-minimap').click();
    await expectWholeFlowInView(DEMO_NODES);
    await page.setViewportSize({ width: 1280, height: 720 });
  });

  it('fits an imported flow, and the flow opened from the list', async () => {
    const file = path.join(REPO_ROOT, 'examples', 'misbehaving-erp.flow.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { name: string; nodes: unknown[] };
    await page.getByTestId('import-file').setInputFiles(file);
    await expect.poll(() => text('flow-name')).toBe(doc.name);
    await page
      .locator('.react-flow__node')
      .nth(doc.nodes.length - 1)
      .waitFor({ state: 'visible' });
    await expectWholeFlowInView(doc.nodes.length);
    await page.screenshot({ path: path.join(SHOTS, 'canvas-5-imported.png') });

    await page.getByTestId('flow-list-item').filter({ hasText: 'Work orders → ERP' }).click();
    await page.getByTestId('node-dead-letter').waitFor({ state: 'visible' });
    await expectWholeFlowInView(DEMO_NODES);
  });

  it('at 1024×700: nothing overflows, keys are whole, the tab strip scrolls, problems show without scrolling', async () => {
    await page.setViewportSize({ width: 1024, height: 700 });
    await page.getByTestId('flow-list-item').filter({ hasText: 'Work orders → ERP' }).click();
    // the problems of the flow just opened are on screen, without scrolling the column
    await page.getByTestId('section-problems').waitFor({ state: 'visible' });
    const problems = await page.getByTestId('section-problems').boundingBox();
    expect(problems && problems.y >= 48 && problems.y + 60 <= 700).toBe(true);
    await page.getByTestId('recent-run').first().click();
    await expect.poll(() => text('run-status')).toBe('succeeded');
    await expectWholeFlowInView(DEMO_NODES);

    const layout = await page.evaluate(() => {
      const fits = (el: Element) => el.scrollWidth <= el.clientWidth + 1;
      const r = (el: Element) => el.getBoundingClientRect();
      const bar = document.querySelector('.dock-tab-bar') as HTMLElement;
      return {
        pageOverflow: document.documentElement.scrollWidth - window.innerWidth,
        barScrolls: getComputedStyle(bar).overflowX,
        barWider: bar.scrollWidth > bar.clientWidth,
        countLabelsWhole: [...document.querySelectorAll('.count-label')].every(fits),
        // a run button's text on one line: no taller than a button with one line
        runButtonsOneLine: [...document.querySelectorAll('.run-actions > .button')].every((el) => r(el).height <= 40),
        toolbarInside: [...document.querySelectorAll('.editor-toolbar > *')].every(
          (el) => r(el).right <= window.innerWidth && r(el).left >= 0,
        ),
        headerInside: [...document.querySelectorAll('.header > *')].every((el) => r(el).right <= window.innerWidth),
      };
    });
    expect(layout.pageOverflow).toBeLessThanOrEqual(0);
    expect(layout.barScrolls).toBe('auto');
    expect(layout.countLabelsWhole).toBe(true);
    expect(layout.runButtonsOneLine).toBe(true);
    expect(layout.toolbarInside).toBe(true);
    expect(layout.headerInside).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'layout-1-1024.png') });

    // every tab can be reached: the strip scrolls to the last one
    await page.getByTestId('dock-tab-timeline').click();
    expect(await page.getByTestId('dock-tab-timeline').getAttribute('aria-selected')).toBe('true');
    const tabInBar = await page.evaluate(() => {
      const bar = (document.querySelector('.dock-tab-bar') as HTMLElement).getBoundingClientRect();
      const tab = (document.querySelector('[data-testid="dock-tab-timeline"]') as HTMLElement).getBoundingClientRect();
      return tab.left >= bar.left - 1 && tab.right <= bar.right + 1;
    });
    expect(tabInBar).toBe(true);
    await page.getByTestId('dock-tab-failed').click();

    // failed records: every key shown whole, in the list and in the record opened from it
    const key = page.getByTestId('failed-record').first().locator('.row-button');
    await key.waitFor({ state: 'visible' });
    const keyText = (await key.textContent())?.trim() ?? '';
    expect(keyText).toMatch(/^\d{14}$/);
    const keysWhole = await page.evaluate(() => {
      const scroll = (document.querySelector('.failed-records .table-scroll') as HTMLElement).getBoundingClientRect();
      return [...document.querySelectorAll('[data-testid="failed-record"] .row-button')].every((el) => {
        const b = el.getBoundingClientRect();
        return el.scrollWidth <= el.clientWidth + 1 && b.left >= scroll.left && b.right <= scroll.right;
      });
    });
    expect(keysWhole).toBe(true);
    await key.click();
    const detail = page.getByTestId('record-detail');
    await detail.waitFor({ state: 'visible' });
    const detailBox = await detail.boundingBox();
    expect(detailBox && detailBox.x + detailBox.width <= 1024).toBe(true);
    expect(await detail.textContent()).toContain(keyText);
    await page.screenshot({ path: path.join(SHOTS, 'layout-2-1024-record.png') });
    await detail.getByRole('button', { name: 'Close' }).click();
    await page.getByTestId('failed-record').first().waitFor({ state: 'visible' });
  });

  it('folds the sections of the left column, and keeps them folded', async () => {
    await page.getByTestId('section-toggle-palette').click();
    expect(await page.getByTestId('palette-search').isVisible()).toBe(false);
    await page.getByTestId('section-toggle-flows').click();
    expect(await page.getByTestId('flow-list-item').first().isVisible()).toBe(false);
    await page.reload();
    await page.getByTestId('node-dead-letter').waitFor({ state: 'visible' });
    expect(await page.getByTestId('palette-search').isVisible()).toBe(false);
    await page.screenshot({ path: path.join(SHOTS, 'layout-3-folded.png') });
    await page.getByTestId('section-toggle-palette').click();
    await page.getByTestId('section-toggle-flows').click();
    expect(await page.getByTestId('palette-search').isVisible()).toBe(true);
  });

  it('resizes the dock by its top edge; the canvas fits the flow in what is left', async () => {
    const before = (await page.getByTestId('dock').boundingBox())?.height ?? 0;
    const edge = await page.getByTestId('dock-resizer').boundingBox();
    if (!edge) throw new Error('no dock edge');
    await page.mouse.move(edge.x + 200, edge.y + 3);
    await page.mouse.down();
    await page.mouse.move(edge.x + 200, edge.y - 97, { steps: 5 });
    await page.mouse.up();
    const after = (await page.getByTestId('dock').boundingBox())?.height ?? 0;
    expect(Math.round(after - before)).toBe(100);
    await expectWholeFlowInView(DEMO_NODES);
    // and from the keyboard
    await page.getByTestId('dock-resizer').focus();
    await page.keyboard.press('ArrowDown');
    expect(Math.round(((await page.getByTestId('dock').boundingBox())?.height ?? 0) - after)).toBe(-20);
    await page.screenshot({ path: path.join(SHOTS, 'layout-4-dock-resized.png') });
    await page.setViewportSize({ width: 1280, height: 720 });
  });
});

/** WCAG contrast ratio of two computed `rgb(…)` colours. */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, g, bl] = (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => {
      const x = Number(v) / 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

describe('dark mode, shortcuts and keys in a real browser', () => {
  const colours = () =>
    page.evaluate(() => {
      const css = (sel: string, prop: string) =>
        getComputedStyle(document.querySelector(sel) as Element).getPropertyValue(prop);
      return {
        theme: document.documentElement.dataset.theme,
        page: css('.app', 'background-color') || css('body', 'background-color'),
        body: getComputedStyle(document.documentElement).getPropertyValue('--bg').trim(),
        node: css('[data-testid="node-erp-write"]', 'background-color'),
        label: css('[data-testid="node-erp-write"] .flow-node-label', 'color'),
        side: css('.flow-side', 'background-color'),
        sideText: css('.palette-item-label', 'color'),
        dock: css('.dock', 'background-color'),
        flowDark: document.querySelector('.react-flow')?.classList.contains('dark') ?? false,
      };
    });

  it('follows the system setting, and the toggle forces light or dark and is kept', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${server.url}/#token=${TEST_TOKEN}`);
    await page.getByTestId('flow-list-item').filter({ hasText: 'Work orders → ERP' }).click();
    await page.getByTestId('node-erp-write').waitFor({ state: 'visible' });
    let c = await colours();
    expect(c.theme).toBe('dark');
    expect(c.body).toBe('#0f1218');
    expect(c.node).toBe('rgb(23, 27, 35)');
    expect(c.side).toBe('rgb(23, 27, 35)');
    expect(c.flowDark).toBe(true);
    expect(contrast(c.label, c.node)).toBeGreaterThanOrEqual(7);
    expect(contrast(c.sideText, c.side)).toBeGreaterThanOrEqual(7);
    expect(await page.getByTestId('theme-toggle').getAttribute('data-choice')).toBe('system');
    await page.getByTestId('recent-run').first().click();
    await expect.poll(() => text('run-status')).toBe('succeeded');
    await page.getByTestId('failed-record').first().waitFor({ state: 'visible' });
    await page.screenshot({ path: path.join(SHOTS, 'theme-1-dark.png') });

    // the system turns light: the page follows
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(async () => (await colours()).theme).toBe('light');
    c = await colours();
    expect(c.node).toBe('rgb(255, 255, 255)');
    expect(c.flowDark).toBe(false);

    // forced dark stays dark whatever the system says, across a reload
    await page.getByTestId('theme-toggle').click();
    expect(await page.getByTestId('theme-toggle').getAttribute('data-choice')).toBe('dark');
    expect((await colours()).theme).toBe('dark');
    await page.reload();
    await page.getByTestId('flow-list-item').filter({ hasText: 'Work orders → ERP' }).click();
    await page.getByTestId('node-erp-write').waitFor({ state: 'visible' });
    expect((await colours()).theme).toBe('dark');
    await page.getByTestId('theme-toggle').click();
    expect((await colours()).theme).toBe('light');
    await page.emulateMedia({ colorScheme: 'dark' });
    expect((await colours()).theme).toBe('light');
    await page.getByTestId('theme-toggle').click();
    expect(await page.getByTestId('theme-toggle').getAttribute('data-choice')).toBe('system');
    expect((await colours()).theme).toBe('dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('"?" lists the keyboard shortcuts, but not while typing', async () => {
    await page.getByTestId('palette-search').fill('?');
    expect(await page.getByTestId('shortcuts').count()).toBe(0);
    await page.getByTestId('palette-search').fill('');
    await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('?');
    const dialog = page.getByTestId('shortcuts');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.textContent()).toContain('Ctrl+Enter');
    expect(await dialog.textContent()).toContain('Run the flow');
    await page.screenshot({ path: path.join(SHOTS, 'shortcuts.png') });
    await page.keyboard.press('Escape');
    expect(await dialog.count()).toBe(0);
    await page.getByTestId('shortcuts-button').click();
    await dialog.waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
  });

  it('Ctrl+Enter runs the flow; Ctrl+Shift+Enter tests it', async () => {
    const runsBefore = await page.getByTestId('recent-run').count();
    await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Control+Shift+Enter');
    // a test run: its data shows in the Node data panel; it is not one of the runs listed
    await expect
      .poll(() => page.getByTestId('node-data-panel').getAttribute('data-state'), { timeout: 30_000 })
      .toBe('done');
    expect(await page.getByTestId('recent-run').count()).toBe(runsBefore);
    await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => page.getByTestId('recent-run').count(), { timeout: 10_000 }).toBe(runsBefore + 1);
    await expect.poll(() => text('run-status'), { timeout: 60_000, interval: 250 }).toBe('succeeded');
    expect(await text('count-read')).toBe('1000');
  });
});

describe('adding steps from the keyboard and onto edges in a real browser', () => {
  it('Tab opens a step search that adds the step after the selected node, connected', async () => {
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.getByTestId('flow-list-item').filter({ hasText: 'Work orders → ERP' }).click();
    await page.getByTestId('node-erp-write').click();
    await page.keyboard.press('Tab');
    const search = page.getByTestId('node-search');
    await search.waitFor({ state: 'visible' });
    expect(await search.textContent()).toContain('after Create in ERP');
    await page.keyboard.type('fil');
    expect(
      await page.locator('.node-search-item.is-active .node-search-label').textContent(),
      'the first match is chosen',
    ).toBe('Filter');
    await page.screenshot({ path: path.join(SHOTS, 'steps-1-search.png') });
    await page.keyboard.press('Enter');
    await page.getByTestId('node-filter-1').waitFor({ state: 'visible' });
    expect(await search.count()).toBe(0);
    // connected from the selected node's output, and selected itself (the inspector shows it)
    await page.locator('[aria-label="Edge from erp-write to filter-1"]').waitFor({ state: 'attached' });
    await expect.poll(() => page.locator('.inspector-side').textContent()).toContain('Filter');
    const [from, to] = await Promise.all([
      page.getByTestId('node-erp-write').boundingBox(),
      page.getByTestId('node-filter-1').boundingBox(),
    ]);
    expect(to && from && to.x > from.x + from.width).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'steps-2-inserted.png') });
    await page.keyboard.press('Control+z');
    expect(await page.getByTestId('node-filter-1').count()).toBe(0);
  });

  it('"/" with nothing selected adds the step where the pointer is; Esc closes the search', async () => {
    await page.locator('.react-flow__pane').click({ position: { x: 30, y: 30 } });
    const pane = await page.locator('.react-flow__pane').boundingBox();
    if (!pane) throw new Error('no pane');
    const at = { x: pane.x + 320, y: pane.y + pane.height - 40 };
    await page.mouse.move(at.x, at.y);
    await page.keyboard.press('/');
    await page.getByTestId('node-search').waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
    expect(await page.getByTestId('node-search').count()).toBe(0);
    await page.mouse.move(at.x, at.y);
    await page.keyboard.press('/');
    await page.keyboard.type('delay');
    await page.keyboard.press('Enter');
    const box = await page.getByTestId('node-delay-1').boundingBox();
    expect(box && Math.abs(box.x + box.width / 2 - at.x) < 20).toBe(true);
    expect(await page.locator('[aria-label$=" delay-1"], [aria-label^="Edge from delay-1 "]').count()).toBe(0);
    await page.keyboard.press('Control+z');
  });

  it('a step dropped on an edge goes in the middle of it', async () => {
    const edge = page.locator('[aria-label="Edge from pause to to-erp-shape"] .react-flow__edge-path');
    const box = await edge.boundingBox();
    if (!box) throw new Error('no edge');
    await page.getByTestId('palette-item-filter').dragTo(page.locator('.react-flow__pane'), {
      targetPosition: await page.evaluate(
        ({ x, y }) => {
          const pane = (document.querySelector('.react-flow__pane') as Element).getBoundingClientRect();
          return { x: x - pane.x, y: y - pane.y };
        },
        { x: box.x + box.width / 2, y: box.y + box.height / 2 },
      ),
    });
    await page.getByTestId('node-filter-1').waitFor({ state: 'visible' });
    await page.locator('[aria-label="Edge from pause to filter-1"]').waitFor({ state: 'attached' });
    await page.locator('[aria-label="Edge from filter-1 to to-erp-shape"]').waitFor({ state: 'attached' });
    expect(await page.locator('[aria-label="Edge from pause to to-erp-shape"]').count()).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'steps-3-dropped-on-edge.png') });
    await page.keyboard.press('Control+z');
    await page.locator('[aria-label="Edge from pause to to-erp-shape"]').waitFor({ state: 'attached' });
  });
});

describe('sticky notes in a real browser', () => {
  it('adds a note, writes markdown in it, colours and resizes it, saves it with the flow; runs ignore it', async () => {
    await page.goto(`${server.url}/#token=${TEST_TOKEN}`);
    await page.getByTestId('flow-list-item').filter({ hasText: 'Work orders → ERP' }).click();
    await page.getByTestId('node-erp-write').waitFor({ state: 'visible' });
    await expect.poll(() => page.getByTestId('section-runs').textContent()).toMatch(/not run yet|read/);
    const runsBefore = await page.getByTestId('recent-run').count();
    await page.getByTestId('add-note').click();
    const note = page.getByTestId('note-note-1');
    await note.waitFor({ state: 'visible' });
    await page.getByTestId('note-edit').click();
    await page.getByTestId('note-editor').fill('# Why 50\nThe ERP takes **50** a batch.\n- retried *once*');
    await page.keyboard.press('Control+Enter');
    expect(await page.getByTestId('note-editor').count()).toBe(0);
    expect(await note.locator('h1').textContent()).toBe('Why 50');
    expect(await note.locator('strong').textContent()).toBe('50');
    expect(await note.locator('li em').textContent()).toBe('once');
    // Ctrl+Enter in the note finished the text; it did not start a run
    expect(await page.getByTestId('recent-run').count()).toBe(runsBefore);

    await page.getByTestId('note-colour-blue').click();
    await expect.poll(() => note.getAttribute('class')).toContain('note-blue');
    const before = await note.boundingBox();
    const handle = page.locator('.react-flow__resize-control.handle.bottom.right');
    const h = await handle.boundingBox();
    if (!before || !h) throw new Error('no note or handle');
    await page.mouse.move(h.x + h.width / 2, h.y + h.height / 2);
    await page.mouse.down();
    await page.mouse.move(h.x + 80, h.y + 50, { steps: 6 });
    await page.mouse.up();
    const after = await note.boundingBox();
    expect(after && after.width > before.width + 60).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'notes-1-note.png') });

    await page.keyboard.press('Control+s');
    await expect.poll(() => text('editor-message')).toMatch(/Saved as version \d+/);
    const flows = (await (
      await fetch(`${server.url}/api/flows`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } })
    ).json()) as { items: { id: string; name: string }[] };
    const demo = flows.items.find((f) => f.name === 'Work orders → ERP');
    const saved = (await (
      await fetch(`${server.url}/api/flows/${demo?.id}`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } })
    ).json()) as { document: { format: number; notes: { text: string; colour: string; width: number }[] } };
    expect(saved.document.format).toBe(2);
    expect(saved.document.notes).toHaveLength(1);
    expect(saved.document.notes[0]?.text).toContain('**50**');
    expect(saved.document.notes[0]?.colour).toBe('blue');
    expect(saved.document.notes[0]?.width).toBeGreaterThan(300);

    await page.reload();
    await page.getByTestId('flow-list-item').filter({ hasText: 'Work orders → ERP' }).click();
    await page.getByTestId('note-note-1').waitFor({ state: 'visible' });
    expect(await page.getByTestId('note-note-1').locator('h1').textContent()).toBe('Why 50');

    await page.getByTestId('run-button').click();
    await expect.poll(() => text('run-status'), { timeout: 60_000, interval: 250 }).toBe('succeeded');
    expect(await text('count-read')).toBe('1000');
    expect(await text('count-failed')).toBe('86');
    await page.screenshot({ path: path.join(SHOTS, 'notes-2-saved-and-run.png') });
  });
});
