import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, TEST_TOKEN } from '../support/server.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'sluice-first-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('first start with SLUICE_API_TOKEN set', () => {
  it('prints the address to open with that token, once; later starts say to paste it', async () => {
    const first = await startServer({}, dataDir);
    try {
      expect(first.output()).toContain(`Open ${first.url}/#token=${TEST_TOKEN}`);
    } finally {
      await first.stop();
    }
    const again = await startServer({}, dataDir);
    try {
      const output = again.output();
      expect(output).toContain(`Open ${again.url}\n`);
      expect(output).toMatch(/paste SLUICE_API_TOKEN/);
      expect(output).not.toContain(TEST_TOKEN);
    } finally {
      await again.stop();
    }
  }, 120_000);
});
