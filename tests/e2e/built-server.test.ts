import { readFileSync } from 'node:fs';
import { isFinalRunStatus } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, eventually, type RunningServer, startBuiltServer } from '../support/server.js';

/**
 * What `npm start` runs: the built server (server/dist/sluice.mjs) through `server/bin/sluice serve`,
 * not the TypeScript sources through a loader, with the runtime options the command sets.
 */
let server: RunningServer;

beforeAll(async () => {
  server = await startBuiltServer();
});
afterAll(() => server?.stop());

describe('the built server, started as npm start starts it', () => {
  it('is one node process running the build with the runtime options, no TypeScript loader', () => {
    const argv = readFileSync(`/proc/${server.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    expect(argv[0]).toMatch(/node$/);
    expect(argv).toContain('--max-semi-space-size=8');
    expect(argv).toContain('--max-old-space-size=1024');
    expect(argv.some((a) => /server\/bin\/\.\.\/dist\/sluice\.mjs$/.test(a))).toBe(true);
    expect(argv.join(' ')).not.toMatch(/tsx|\.ts\b/);
    const env = readFileSync(`/proc/${server.pid}/environ`, 'utf8').split('\0');
    expect(env).toContain('MALLOC_ARENA_MAX=2');
  });

  it('serves the editor and runs the demo flow: migrations, writer thread and sandbox found from the build', async () => {
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');

    const sluice = apiClient(server.url);
    const { items: flows } = await sluice.call('listFlows');
    const demo = flows.find((f) => f.name === 'Work orders → ERP');
    expect(demo, 'the demo flow is added on first start').toBeDefined();
    const { runId } = await sluice.call('startRun', { params: { id: demo!.id } });
    const run = await eventually(async () => {
      const r = await sluice.call('getRun', { params: { id: runId } });
      return isFinalRunStatus(r.status) ? r : undefined;
    });
    expect(run.status).toBe('succeeded');
    expect(run.counts).toMatchObject({ read: 1000, succeeded: 914, failed: 86 });
    // the failed records' outcomes were stored by the writer thread the build starts from src/
    const failed = await sluice.call('listRecords', { params: { id: runId }, query: { status: 'failed', limit: 5 } });
    expect(failed.items).toHaveLength(5);
    expect(failed.items[0]?.error?.message).toMatch(/HTTP 422/);
  });
});
