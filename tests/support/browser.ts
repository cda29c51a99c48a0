import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { REPO_ROOT, startServer, TEST_TOKEN } from './server.js';

/** Where browser tests write the screenshots a person looks at (ignored by git). */
export const SHOTS = path.join(REPO_ROOT, 'tests', 'screenshots');

/**
 * Debian's Chromium, headless. The flags keep it from reaching out on its own (updates, sync,
 * background fetches): the only traffic is to the server under test on loopback.
 */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.SLUICE_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A page of the given size whose uncaught errors show in the test's output. */
export async function openPage(browser: Browser, viewport = { width: 1440, height: 900 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  page.on('pageerror', (err) => console.error('page error:', err.message));
  return page;
}

/**
 * The server (`startServer`, with `env` added to its environment) and the editor open on it in
 * Chromium, signed in; `close` ends both.
 */
export async function startEditor(viewport?: { width: number; height: number }, env: Record<string, string> = {}) {
  const server = await startServer(env);
  const browser = await launchChromium();
  const page = await openPage(browser, viewport);
  /** The page's uncaught errors, for tests that assert there were none. */
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${server.url}/#token=${TEST_TOKEN}`);
  return {
    server,
    browser,
    page,
    errors,
    close: async () => {
      await browser.close();
      await server.stop();
    },
  };
}
