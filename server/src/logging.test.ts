import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestSluice, TEST_TOKEN, type TestSluice } from './http/test-support.js';
import { createLogger, logLevelFrom } from './logger.js';

/**
 * The server's log at its most detailed, over runs that use stored connections with secrets (bearer,
 * basic, API key), connection checks and refused API calls: it says what the runs did, every line
 * about a run names the run and its flow, and no secret or token appears in it.
 */
const BEARER = 'bearer-secret-4f1c9a7d2e';
const BASIC_USER = 'erp-user';
const BASIC_PASSWORD = 'basic-password-8b3e6c1f0a';
const API_KEY = 'api-key-secret-5d7a2c9e4b';
const WRONG_TOKEN = 'wrong-token-3c8d1e6f2a';

let t: TestSluice;
let system: Server;
let base = '';
let log = '';
let failNext = 2;

beforeAll(async () => {
  system = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/items') {
      if (req.headers.authorization !== `Bearer ${BEARER}`) return json(401, { error: 'bad token' });
      return json(200, { data: Array.from({ length: 30 }, (_, i) => ({ key: `wo-${i}`, n: i })) });
    }
    if (url.pathname === '/erp') {
      const expected = `Basic ${Buffer.from(`${BASIC_USER}:${BASIC_PASSWORD}`).toString('base64')}`;
      if (req.headers.authorization !== expected) return json(401, { error: 'bad credentials' });
      let body = '';
      req.on('data', (d) => {
        body += String(d);
      });
      req.on('end', () => {
        // a few 503s (retried), and records whose number ends in 3 refused
        if (failNext-- > 0) return json(503, { error: 'busy' });
        const record = JSON.parse(body) as { n: number };
        if (record.n % 10 === 3) return json(422, { error: `record ${record.n} refused` });
        json(201, { ok: true });
      });
      return;
    }
    if (url.pathname === '/health') return json(req.headers['x-api-key'] === API_KEY ? 200 : 401, {});
    json(404, {});
  });
  await new Promise<void>((resolve) => system.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(system.address() as AddressInfo).port}`;
  const destination = new Writable({
    write(chunk, _encoding, done) {
      log += String(chunk);
      done();
    },
  });
  t = await openTestSluice({ logger: createLogger({ level: 'trace', destination }) });
});

afterAll(async () => {
  await t?.close();
  await new Promise<void>((resolve) => system.close(() => resolve()));
});

const post = async (path: string, body: unknown) => {
  const res = await t.app.request(path, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('the log', () => {
  it('tells what runs with stored connections did, names run and flow on each line about a run, and holds no secret', async () => {
    for (const connection of [
      { name: 'items', baseUrl: base, auth: 'bearer', secret: BEARER },
      { name: 'erp', baseUrl: base, auth: 'basic', username: BASIC_USER, secret: BASIC_PASSWORD },
      { name: 'keyed', baseUrl: base, auth: 'api-key', headerName: 'X-API-Key', secret: API_KEY, checkPath: '/health' },
      { name: 'stale', baseUrl: base, auth: 'bearer', secret: 'stale-secret-0e9d8c7b6a', checkPath: '/items' },
    ]) {
      expect((await post('/api/connections', connection)).status).toBe(201);
    }
    expect((await post('/api/connections/keyed/check', {})).status).toBe(200);
    expect((await post('/api/connections/stale/check', {})).status).toBe(200);

    const flow = {
      format: 1,
      name: 'Items to ERP',
      settings: { onError: 'continue' },
      nodes: [
        { id: 'start', type: 'manual' },
        {
          id: 'read',
          type: 'http-source',
          params: { connection: 'items', url: '/items', keyField: 'key', recordsPath: 'data' },
        },
        { id: 'batch', type: 'batch', params: { size: 10 } },
        {
          id: 'write',
          type: 'http-write',
          params: { connection: 'erp', url: '/erp', retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 20 } },
        },
        { id: 'refused', type: 'error-branch' },
        { id: 'keep', type: 'collect' },
      ],
      edges: [
        { source: 'start', target: 'read' },
        { source: 'read', target: 'batch' },
        { source: 'batch', target: 'write' },
        { source: 'write', sourcePort: 'error', target: 'refused' },
        { source: 'refused', target: 'keep' },
      ],
    };
    const created = await post('/api/flows', flow);
    const flowId = created.body.id as string;
    const started = await post(`/api/flows/${flowId}/runs`, {});
    expect(started.status).toBe(202);
    const runId = started.body.runId as string;
    const result = await t.parts.runner.wait(runId);
    expect(result.status).toBe('succeeded');
    expect(result.counts).toMatchObject({ read: 30, failed: 3 });

    // a run that cannot reach its source (a refused credential), and API calls with a wrong token
    const stale = await post('/api/flows', {
      ...flow,
      name: 'Stale',
      nodes: flow.nodes.map((n) => (n.id === 'read' ? { ...n, params: { ...n.params, connection: 'stale' } } : n)),
    });
    const staleRun = await post(`/api/flows/${stale.body.id}/runs`, {});
    expect((await t.parts.runner.wait(staleRun.body.runId as string)).status).toBe('failed');
    const refused = await t.raw.request('/api/runs', { headers: { authorization: `Bearer ${WRONG_TOKEN}` } });
    expect(refused.status).toBe(401);

    const lines = log
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const ofRun = lines.filter((l) => l.runId === runId);
    expect(ofRun.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['starting the run', 'batch finished', 'the run ended succeeded']),
    );
    for (const line of ofRun) expect(line.flowId).toBe(flowId);
    for (const line of lines.filter((l) => l.runId !== undefined)) expect(line.flowId).toBeDefined();

    for (const secret of [
      BEARER,
      BASIC_PASSWORD,
      Buffer.from(`${BASIC_USER}:${BASIC_PASSWORD}`).toString('base64'),
      API_KEY,
      'stale-secret-0e9d8c7b6a',
      TEST_TOKEN,
      WRONG_TOKEN,
    ]) {
      expect(log).not.toContain(secret);
    }
  });

  it('redacts secret fields a careless call site might log', () => {
    let text = '';
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk, _e, done) {
          text += String(chunk);
          done();
        },
      }),
    });
    logger.info({ req: { headers: { authorization: `Bearer ${TEST_TOKEN}`, 'x-sluice-secret': 'hook-secret' } } }, 'a');
    logger.child({ runId: '1' }).info({ connection: { auth: { password: BASIC_PASSWORD } }, token: TEST_TOKEN }, 'b');
    expect(text).not.toContain(TEST_TOKEN);
    expect(text).not.toContain('hook-secret');
    expect(text).not.toContain(BASIC_PASSWORD);
    expect(text.match(/\[redacted\]/g)).toHaveLength(4);
  });

  it('takes its level from SLUICE_LOG_LEVEL, info by default, and refuses a level that does not exist', () => {
    expect(logLevelFrom({})).toBe('info');
    expect(logLevelFrom({ SLUICE_LOG_LEVEL: 'DEBUG' })).toBe('debug');
    expect(logLevelFrom({}, 'warn')).toBe('warn');
    expect(() => logLevelFrom({ SLUICE_LOG_LEVEL: 'loud' })).toThrow(/SLUICE_LOG_LEVEL: must be one of/);
  });
});
