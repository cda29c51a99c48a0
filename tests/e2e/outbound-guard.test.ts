import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { type ApiClient, isFinalRunStatus, type RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, eventually, type RunningServer, startServer } from '../support/server.js';

/**
 * The outbound guard in the real server process. Every refused address is on this machine and
 * outside the allow list (127.0.0.2 and ::1, port 9, where nothing listens), so even a broken guard
 * sends no packet out. The only server the allow list names is a redirector on 127.0.0.1 that sends
 * every request on to http://[::1]:9/; the built-in sandbox systems are allowed without being listed.
 */

let redirector: Server;
let redirected = 0;
let server: RunningServer;
let sluice: ApiClient;

beforeAll(async () => {
  // nothing may listen where the refused requests point: were the guard broken, they would fail anyway
  for (const host of ['127.0.0.2', '::1']) expect(await listening(host, 9)).toBe(false);
  redirector = createServer((_req, res) => {
    redirected++;
    res.writeHead(307, { location: 'http://[::1]:9/orders' }).end();
  });
  await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
  const { port } = redirector.address() as AddressInfo;
  server = await startServer({ SLUICE_ALLOW_HOSTS: `127.0.0.1:${port}` });
  sluice = apiClient(server.url);
});
afterAll(async () => {
  await server?.stop();
  redirector?.closeAllConnections();
  redirector?.close();
});

/** Whether something accepts a TCP connection at host:port (on this machine). */
function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const redirectorUrl = () => `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;

/** manual → three inline records → an HTTP write to `url` (5 attempts each) → its failures collected. */
function writeTo(name: string, params: Record<string, unknown>) {
  return {
    format: 2 as const,
    name,
    nodes: [
      { id: 'start', type: 'manual' },
      {
        id: 'src',
        type: 'inline-records',
        params: { keyField: 'key', records: [{ key: 'a' }, { key: 'b' }, { key: 'c' }] },
      },
      {
        id: 'write',
        type: 'http-write',
        params: { ...params, retry: { maxAttempts: 5, initialDelayMs: 2000, maxDelayMs: 2000 } },
      },
      { id: 'errors', type: 'error-branch' },
      { id: 'dead', type: 'collect' },
    ],
    edges: [
      { source: 'start', target: 'src' },
      { source: 'src', target: 'write' },
      { source: 'write', sourcePort: 'error', target: 'errors' },
      { source: 'errors', target: 'dead' },
    ],
  };
}

async function run(flowId: string): Promise<RunDetail> {
  const { runId } = await sluice.call('startRun', { params: { id: flowId } });
  return eventually(async () => {
    const r = await sluice.call('getRun', { params: { id: runId } });
    return isFinalRunStatus(r.status) ? r : undefined;
  });
}

async function failedRecords(runId: string) {
  const page = await sluice.call('listRecords', { params: { id: runId }, query: { status: 'failed', limit: 10 } });
  return page.items.map((o) => ({ key: o.key, attempts: o.attempts, error: o.error }));
}

describe('the outbound guard, through the real server', () => {
  it('fails each record of an HTTP node aimed at 127.0.0.2 at once, naming the rule, without a retry', async () => {
    const flow = await sluice.call('createFlow', {
      body: writeTo('Write to a loopback address', { url: 'http://127.0.0.2:9/orders' }),
    });
    const started = Date.now();
    const detail = await run(flow.id);
    expect(detail.counts).toMatchObject({ read: 3, failed: 3, succeeded: 0 });
    const message = 'outbound guard: 127.0.0.2 is a loopback address; allow it with SLUICE_ALLOW_HOSTS';
    expect(await failedRecords(detail.id)).toEqual(
      ['a', 'b', 'c'].map((key) => ({ key, attempts: 1, error: { message, code: 'refused' } })),
    );
    // five attempts 2 s apart would take 8 s a record: none was retried
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('refuses the redirect an allowed server answers with, to [::1]', async () => {
    const flow = await sluice.call('createFlow', {
      body: writeTo('Write through a redirect', { url: `${redirectorUrl()}/orders` }),
    });
    const before = redirected;
    const detail = await run(flow.id);
    expect(detail.counts).toMatchObject({ read: 3, failed: 3 });
    const failed = await failedRecords(detail.id);
    expect(failed.map((f) => [f.attempts, f.error?.message])).toEqual(
      Array(3).fill([1, 'outbound guard: ::1 is a loopback address; allow it with SLUICE_ALLOW_HOSTS']),
    );
    // the allowed server was reached (once a record); the address it redirected to was not
    expect(redirected - before).toBe(3);
  });

  it("fails the run at its connections' check when a connection points at a refused address", async () => {
    await sluice.call('createConnection', {
      body: { name: 'loopback-erp', baseUrl: 'http://127.0.0.2:9/erp', auth: 'none' },
    });
    const status = await sluice.call('checkConnection', { params: { name: 'loopback-erp' } });
    expect(status).toMatchObject({
      state: 'error',
      message: 'outbound guard: 127.0.0.2 is a loopback address; allow it with SLUICE_ALLOW_HOSTS',
    });
    const flow = await sluice.call('createFlow', {
      body: writeTo('Write on a loopback connection', { connection: 'loopback-erp', url: '/orders' }),
    });
    const detail = await run(flow.id);
    expect(detail.status).toBe('failed');
    expect(detail.error).toBe(
      'connection "loopback-erp": outbound guard: 127.0.0.2 is a loopback address; allow it with SLUICE_ALLOW_HOSTS',
    );
    expect(detail.counts.read).toBe(0);
  });

  it('lets the demo flow reach the built-in sandbox systems, which no allow-list entry names', async () => {
    const { items } = await sluice.call('listFlows');
    const demo = items.find((f) => f.name === 'Work orders → ERP');
    expect(demo).toBeDefined();
    const detail = await run(demo!.id);
    expect(detail.status).toBe('succeeded');
    expect(detail.counts.read).toBe(1000);
    expect(detail.counts.succeeded).toBeGreaterThan(900);
  });
});
