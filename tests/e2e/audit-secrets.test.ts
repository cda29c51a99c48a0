import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AuditEntry, FlowDetail, Page, RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authHeader,
  eventually,
  REPO_ROOT,
  type RunningServer,
  startSandboxProcess,
  startServer,
  TEST_TOKEN,
} from '../support/server.js';

/**
 * Secrets given to a real server never come out again: not in the audit log, the server's log, the
 * exports (flow documents, a run's records, errors, collected records and test data, a backup) or an
 * error message. Every kind of secret the API takes is fed to it with a known value, the server is
 * made to use them (runs, checks, refused requests), and then everything it produced is searched.
 */

const SECRETS = {
  connection: 'zq-conn-bearer-7f3a91',
  connectionChanged: 'zq-conn-patched-2b8c44',
  password: 'zq-basic-password-5d1e07',
  oauthClient: 'zq-oauth-client-9a6b23',
  oauthRefresh: 'zq-oauth-refresh-4c7d58',
  alertWebhook: 'zq-alert-webhook-8e2f16',
  smtpPassword: 'zq-smtp-password-3b9a72',
  refused: 'zq-refused-request-6a0c35',
  userPassword: 'zq-user-password-1e8b47',
  userPasswordReset: 'zq-user-password-reset-7c2d90',
  wrongPassword: 'zq-wrong-password-0f5e63',
};

const execute = promisify(execFile);
const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

let sandbox: RunningServer;
let server: RunningServer;
/** Every answer the server gave, as text (but the one that hands out a new API token, by design). */
const answers: string[] = [];
/** The API token the server made: a secret too, from then on. */
let madeToken = '';

async function send(
  method: string,
  route: string,
  body?: unknown,
  keep = true,
): Promise<{ status: number; text: string }> {
  const res = await fetch(`${server.url}${route}`, {
    method,
    headers: { ...authHeader, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (keep) answers.push(`${method} ${route} ${res.status}\n${text}`);
  return { status: res.status, text };
}

async function ok<T>(method: string, route: string, body?: unknown): Promise<T> {
  const { status, text } = await send(method, route, body);
  expect(status, `${method} ${route}: ${text}`).toBeLessThan(300);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Every file under a folder, with its bytes. */
function filesUnder(dir: string): { file: string; bytes: Buffer }[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile())
    .map((file) => ({ file, bytes: readFileSync(file) }));
}

beforeAll(async () => {
  sandbox = await startSandboxProcess(20);
  // the test talks to the server from loopback, here standing for a reverse proxy in front of it
  server = await startServer({
    SLUICE_SANDBOX_URL: sandbox.url,
    SLUICE_LOG_LEVEL: 'debug',
    SLUICE_TRUSTED_PROXIES: '127.0.0.1',
  });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await sandbox?.stop();
});

describe('secrets given to the server', () => {
  it('never appear in audit entries, logs, exports or error messages', { timeout: 180_000 }, async () => {
    const erp = `${sandbox.url}/erp`;
    // connections: a bearer token (then changed), a basic password, an OAuth2 client secret and refresh token
    await ok('POST', '/api/connections', {
      name: 'leaky-erp',
      baseUrl: erp,
      auth: 'bearer',
      secret: SECRETS.connection,
      checkPath: '/api/erp/status',
    });
    await ok('PATCH', '/api/connections/leaky-erp', { auth: 'bearer', secret: SECRETS.connectionChanged });
    await ok('POST', '/api/connections', {
      name: 'basic-erp',
      baseUrl: erp,
      auth: 'basic',
      username: 'ops',
      secret: SECRETS.password,
      checkPath: '/api/erp/status',
    });
    await ok('POST', '/api/connections', {
      name: 'oauth-erp',
      baseUrl: erp,
      auth: 'oauth2',
      secret: SECRETS.oauthClient,
      refreshToken: SECRETS.oauthRefresh,
      checkPath: '/api/erp/status',
      oauth2: { grant: 'client_credentials', tokenUrl: `${sandbox.url}/oauth/token`, clientId: 'sluice' },
    });
    for (const name of ['leaky-erp', 'basic-erp', 'oauth-erp']) await ok('POST', `/api/connections/${name}/check`);

    // an API token, made by the server
    const made = await send('POST', '/api/tokens', { name: 'ci' }, false);
    madeToken = (JSON.parse(made.text) as { token: string }).token;
    expect(madeToken.length).toBeGreaterThan(20);

    // a flow that writes to the ERP with the wrong token: its records fail, with the ERP's answers
    const flow = JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', 'work-orders-to-erp.flow.json'), 'utf8'));
    for (const node of flow.nodes as { id: string; params?: Record<string, unknown> }[]) {
      if (node.id === 'erp-write')
        Object.assign(node.params ?? {}, { connection: 'leaky-erp', retry: { maxAttempts: 1 } });
      if (node.id === 'pause') Object.assign(node.params ?? {}, { ms: 0 });
    }
    const created = await ok<FlowDetail>('POST', '/api/flows', flow);
    // alert rules: a signed webhook and an e-mail with an SMTP password (both on loopback addresses nothing listens on)
    await ok('POST', `/api/flows/${created.id}/alerts`, {
      condition: { kind: 'run-failed' },
      channel: { type: 'webhook', url: 'http://127.0.0.2:9/alerts', secret: SECRETS.alertWebhook },
    });
    await ok('POST', `/api/flows/${created.id}/alerts`, {
      condition: { kind: 'failed-records', minFailed: 1 },
      channel: {
        type: 'email',
        to: ['ops@example.com'],
        smtpUrl: 'smtp://127.0.0.2:9',
        username: 'ops',
        secret: SECRETS.smtpPassword,
      },
    });
    const { runId } = await ok<{ runId: string }>('POST', `/api/flows/${created.id}/runs`);
    await eventually(async () => {
      const run = await ok<RunDetail>('GET', `/api/runs/${runId}`);
      return ['succeeded', 'failed', 'cancelled'].includes(run.status) ? run : undefined;
    }, 60_000);
    const test = await ok<{ runId: string }>('POST', `/api/flows/${created.id}/test`, { limit: 3 });
    await ok('GET', `/api/runs/${test.runId}/test-data?waitMs=10000`);

    // refused requests carrying secrets: their error messages must not repeat them
    await send('POST', '/api/connections', {
      name: 'Not A Name',
      baseUrl: erp,
      auth: 'bearer',
      secret: SECRETS.refused,
    });
    await send('PATCH', '/api/connections/nothing-here', { secret: SECRETS.refused });
    await send('POST', '/api/connections', {
      name: 'x',
      baseUrl: erp,
      auth: 'bearer',
      secret: SECRETS.refused,
      extra: SECRETS.refused,
    });
    await send('POST', `/api/flows/${created.id}/alerts`, {
      condition: { kind: 'run-failed' },
      channel: { type: 'webhook', url: 'not a url', secret: SECRETS.refused },
    });
    await send('POST', `/api/flows/${created.id}/alerts`, {
      condition: { kind: 'run-failed' },
      channel: { type: 'email', to: ['x@example.com'], smtpUrl: `smtp://ops:${SECRETS.refused}@127.0.0.2:9` },
    });
    // a user's password: set, signed in with, signed in with wrongly, reset by an admin
    const user = await ok<{ id: string }>('POST', '/api/users', {
      email: 'leaky@example.com',
      name: 'Leaky',
      role: 'editor',
      password: SECRETS.userPassword,
    });
    await ok('POST', '/api/auth/login', { email: 'leaky@example.com', password: SECRETS.userPassword });
    await send('POST', '/api/auth/login', { email: 'leaky@example.com', password: SECRETS.wrongPassword });
    await ok('PATCH', `/api/users/${user.id}`, { password: SECRETS.userPasswordReset });
    await send('POST', '/api/users', { email: 'not an address', name: 'x', role: 'viewer', password: SECRETS.refused });
    const wrongToken = await fetch(`${server.url}/api/flows`, {
      headers: { authorization: `Bearer ${SECRETS.refused}` },
    });
    answers.push(await wrongToken.text());

    // the exports: flow documents, the run's records, errors and collected records, connections, the audit log
    await ok('GET', `/api/flows/${created.id}`);
    await ok('GET', `/api/flows/${created.id}/versions`);
    await ok('GET', `/api/runs/${runId}`);
    await ok('GET', `/api/runs/${runId}/records?limit=1000`);
    await ok('GET', `/api/runs/${runId}/records?status=failed&limit=1000`);
    await ok('GET', `/api/runs/${runId}/errors`);
    await ok('GET', `/api/runs/${runId}/collected?limit=1000`);
    await ok('GET', '/api/connections');
    await ok('GET', `/api/flows/${created.id}/alerts`);
    await ok('GET', '/api/alert-deliveries');
    await ok('GET', '/api/tokens');
    const audit = await ok<Page<AuditEntry>>('GET', '/api/audit?limit=500');

    // the client address: the peer, or through the trusted proxy the address it saw
    expect(new Set(audit.items.filter((e) => e.actor.kind === 'token').map((e) => e.address))).toEqual(
      new Set(['127.0.0.1']),
    );
    const proxied = await fetch(`${server.url}/api/tokens`, {
      method: 'POST',
      headers: { ...authHeader, 'content-type': 'application/json', 'x-forwarded-for': 'spoofed, 198.51.100.7' },
      body: JSON.stringify({ name: 'behind a proxy' }),
    });
    expect(proxied.status).toBe(201);
    const [viaProxy] = (await ok<Page<AuditEntry>>('GET', '/api/audit?action=token.created&limit=1')).items;
    expect(viaProxy?.address).toBe('198.51.100.7');

    // a backup taken on the command line, recorded as the command line's
    const backupFile = path.join(server.dataDir, 'backups', 'audit.sqlite');
    const backup = await execute(TSX, ['server/src/cli/main.ts', 'backup', backupFile], {
      cwd: REPO_ROOT,
      env: { ...process.env, SLUICE_DATA_DIR: server.dataDir },
    });
    answers.push(backup.stdout, backup.stderr);
    const [taken] = (await ok<Page<AuditEntry>>('GET', '/api/audit?action=backup.taken')).items;
    expect(taken).toMatchObject({ actor: { kind: 'cli', id: 'cli' }, objectType: 'backup', objectId: 'audit.sqlite' });

    // what was recorded: the changes, refused ones included, without their secrets
    const actions = audit.items.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'connection.created',
        'connection.changed',
        'connection.tested',
        'token.created',
        'alert_rule.created',
        'run.started',
      ]),
    );
    expect(audit.items.filter((e) => e.outcome === 'refused').length).toBeGreaterThanOrEqual(4);

    // the search: every answer, the server's and the sandbox's output, every file in the data folder
    // (the database, its write-ahead log, the backup)
    const everything = [
      ...answers.map((text, i) => ({ where: `answer ${i}: ${text.slice(0, 80)}`, text })),
      // but the start-up line with the editor's link, which carries the API token by design (the
      // console of whoever started the server; first start prints a new token the same way)
      { where: 'the server log', text: server.output().replace(/^ *Open http:\/\/\S+#token=\S+$/m, '') },
      ...filesUnder(server.dataDir).map(({ file, bytes }) => ({ where: file, text: bytes.toString('latin1') })),
    ];
    expect(everything.length).toBeGreaterThan(20);
    expect(everything.some((e) => e.where.endsWith('audit.sqlite'))).toBe(true);
    const leaks: string[] = [];
    for (const [kind, secret] of [...Object.entries(SECRETS), ['madeToken', madeToken], ['envToken', TEST_TOKEN]]) {
      for (const { where, text } of everything) if (text.includes(secret as string)) leaks.push(`${kind} in ${where}`);
    }
    expect(leaks).toEqual([]);
  });
});
