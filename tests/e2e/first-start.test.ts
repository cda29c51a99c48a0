import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, TEST_TOKEN } from '../support/server.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'sluice-first-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('first start with SLUICE_API_TOKEN set', () => {
  it('prints the address to open with that token, once, and the first admin’s one-time setup link; later starts say to paste it', async () => {
    const first = await startServer({}, dataDir);
    try {
      expect(first.output()).toContain(`Open ${first.url}/#token=${TEST_TOKEN}`);
      // no user yet: a one-time link that makes the first admin, which works once
      const setup = new RegExp(`${first.url}/#setup=(\\S+)`).exec(first.output())?.[1];
      expect(setup).toBeTruthy();
      const make = () =>
        fetch(`${first.url}/api/auth/setup`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token: setup, email: 'first@example.com', name: 'First', password: 'first password' }),
        });
      const made = await make();
      expect(made.status).toBe(201);
      expect(made.headers.get('set-cookie')).toMatch(/HttpOnly/);
      expect((await make()).status).toBe(403);
    } finally {
      await first.stop();
    }
    const again = await startServer({}, dataDir);
    try {
      const output = again.output();
      expect(output).toContain(`Open ${again.url}\n`);
      expect(output).toMatch(/paste SLUICE_API_TOKEN/);
      expect(output).not.toContain(TEST_TOKEN);
      // a user exists now: no setup link
      expect(output).not.toContain('#setup=');
    } finally {
      await again.stop();
    }
  }, 120_000);
});
