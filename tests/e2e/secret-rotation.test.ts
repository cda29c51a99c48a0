import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ConnectionView, RunDetail, Settings } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetiredKeyError, SecretKeyring } from '../../server/src/connections/keyring.js';
import { loadSecretKey, SecretBox, sealedKeyId } from '../../server/src/connections/secrets.js';
import { type Sandbox, startSandbox } from '../../server/src/sandbox/index.js';
import { openSqliteStorage } from '../../server/src/storage/sqlite/index.js';
import { databaseFile } from '../../server/src/storage/sqlite/open.js';
import { api, eventually, REPO_ROOT, type RunningServer, startServer } from '../support/server.js';

const exec = promisify(execFile);

/**
 * `sluice secrets rotate` against a running server, as an operator runs it: the server in its own
 * process, a run writing through stored connections (a bearer token, an OAuth2 client secret) while
 * the command re-seals every stored secret in another process. The run finishes, every connection
 * and the webhook still work, the settings show the new key, and a value sealed with the old key is
 * refused.
 */
const RECORDS = 250;
const PER_SECOND = 10;
const CLIENT_ID = 'sluice-rotation';
const CLIENT_SECRET = 'rotation-client-secret';

let sandbox: Sandbox;
let server: RunningServer;
beforeAll(async () => {
  sandbox = await startSandbox({ workOrders: 10 });
  sandbox.oauth.setSecret(CLIENT_ID, CLIENT_SECRET);
  server = await startServer({ SLUICE_SANDBOX_URL: sandbox.url });
});
afterAll(async () => {
  await server?.stop();
  await sandbox?.close();
});

const post = <T>(p: string, body: unknown, expected?: number[]) =>
  api<T>(
    `${server.url}${p}`,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    expected,
  );
const get = <T>(p: string, expected?: number[]) => api<T>(`${server.url}${p}`, {}, expected);

/** manual → generate → RECORDS / PER_SECOND seconds → each record written through one connection, then the other. */
function flow(records: number) {
  const key = (prefix: string) => ({
    name: 'externalKey',
    expression: `"${prefix}-" & $string($millis()) & "-" & key`,
  });
  return {
    format: 2,
    name: `Writes through stored connections (${records})`,
    nodes: [
      { id: 'start', type: 'manual' },
      { id: 'gen', type: 'generate', params: { count: records, pageSize: 50 } },
      { id: 'pace', type: 'delay', params: { mode: 'rate', records: PER_SECOND, intervalMs: 1000 } },
      {
        id: 'shape',
        type: 'map',
        params: {
          keep: 'none',
          fields: [
            key('bearer'),
            { name: 'key', expression: 'key' },
            { name: 'title', expression: 'label' },
            { name: 'assetKey', expression: '"AS-PUMP-0001"' },
          ],
        },
      },
      { id: 'write-bearer', type: 'http-write', params: { connection: 'erp-bearer', url: '/api/erp/work-orders' } },
      { id: 'rekey', type: 'map', params: { keep: 'all', fields: [key('oauth')] } },
      { id: 'write-oauth', type: 'http-write', params: { connection: 'erp-oauth', url: '/api/erp/work-orders' } },
    ],
    edges: [
      { source: 'start', target: 'gen' },
      { source: 'gen', target: 'pace' },
      { source: 'pace', target: 'shape' },
      { source: 'shape', target: 'write-bearer' },
      { source: 'write-bearer', target: 'rekey' },
      { source: 'rekey', target: 'write-oauth' },
    ],
  };
}

const finished = (runId: string) =>
  eventually(
    async () => {
      const detail = await get<RunDetail>(`/api/runs/${runId}`);
      return ['succeeded', 'failed', 'cancelled'].includes(detail.status) ? detail : undefined;
    },
    120_000,
    500,
  );

/** The sealed values the database holds now, read as another process would. */
async function sealedNow() {
  const storage = await openSqliteStorage(databaseFile(server.dataDir));
  try {
    return await storage.secrets.sealedValues();
  } finally {
    await storage.close();
  }
}

describe('sluice secrets rotate while the server runs', () => {
  it('re-seals every secret during a run: the run finishes, connections and the webhook work, the old key is refused', async () => {
    await post('/api/connections', {
      name: 'erp-bearer',
      baseUrl: `${sandbox.url}/erp`,
      auth: 'bearer',
      secret: 'sandbox-erp-token',
      checkPath: '/api/erp/status',
    });
    await post('/api/connections', {
      name: 'erp-oauth',
      baseUrl: `${sandbox.url}/erp`,
      auth: 'oauth2',
      oauth2: { tokenUrl: `${sandbox.url}/oauth/token`, clientId: CLIENT_ID, scopes: 'erp.write' },
      secret: CLIENT_SECRET,
      checkPath: '/api/erp/status',
    });
    // a spare connection, to hold a value sealed with the old key afterwards
    await post('/api/connections', {
      name: 'spare',
      baseUrl: `${sandbox.url}/erp`,
      auth: 'bearer',
      secret: 'spare-token',
    });
    const { id: flowId } = await post<{ id: string }>('/api/flows', flow(RECORDS));
    // a webhook's secret and an alert channel's secret are sealed too
    const hooked = await post<{ id: string }>('/api/flows', {
      format: 2,
      name: 'Hooked',
      nodes: [{ id: 'hook', type: 'webhook' }],
      edges: [],
    });
    await post(`/api/flows/${hooked.id}/publish`, {});
    const [hook] = (await get<{ items: { path: string; secret: string }[] }>(`/api/flows/${hooked.id}/hooks`)).items;
    if (!hook) throw new Error('the flow has no hook');
    await post(`/api/flows/${flowId}/alerts`, {
      condition: { kind: 'failed-records', minFailed: 1000 },
      channel: { type: 'webhook', url: 'http://127.0.0.1:9/alerts', secret: 'alert-signing-secret' },
    });

    const before = (await get<Settings>('/api/settings')).secretKey;
    const oldValues = await sealedNow();
    expect(oldValues.map((v) => `${v.table}.${v.column}`).sort()).toEqual([
      'alert_rules.secret',
      'connections.secret',
      'connections.secret',
      'connections.secret',
      'webhooks.secret',
    ]);
    expect(oldValues.every((v) => sealedKeyId(v.sealed) === before.id)).toBe(true);

    const { runId } = await post<{ runId: string }>(`/api/flows/${flowId}/runs`, {});
    await eventually(async () => {
      const detail = await get<RunDetail>(`/api/runs/${runId}`);
      return detail.status === 'running' && detail.counts.read > 0 ? detail : undefined;
    });
    const rotated = await exec(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'server/src/cli/main.ts'), 'secrets', 'rotate'],
      { cwd: REPO_ROOT, env: { ...process.env, SLUICE_DATA_DIR: server.dataDir } },
    );
    const [keyId] = rotated.stdout.trim().split('\t');
    expect(rotated.stdout).toMatch(/^k[0-9a-f]{10}\tcreated \S+\tre-sealed 5\n$/);
    // the rotation ran while the run went on
    expect((await get<RunDetail>(`/api/runs/${runId}`)).status).toBe('running');
    // and the audit log says the command line rotated the key
    const audit = await get<{ items: { actor: { kind: string }; objectId: string | null }[] }>(
      '/api/audit?action=secrets.rotated',
    );
    expect(audit.items).toMatchObject([{ actor: { kind: 'cli' }, objectId: keyId }]);

    const detail = await finished(runId);
    expect(detail.status).toBe('succeeded');
    expect(detail.counts).toMatchObject({ read: RECORDS, succeeded: RECORDS, failed: 0 });

    // the settings show the new key, and every stored secret is sealed with it
    const after = (await get<Settings>('/api/settings')).secretKey;
    expect(after.id).toBe(keyId);
    expect(after.id).not.toBe(before.id);
    expect(Date.parse(after.createdAt)).toBeGreaterThan(Date.parse(before.createdAt));
    const newValues = await sealedNow();
    expect(newValues).toHaveLength(oldValues.length);
    expect(newValues.every((v) => sealedKeyId(v.sealed) === keyId)).toBe(true);

    // every connection still works: its check, and another run through both
    for (const name of ['erp-bearer', 'erp-oauth']) {
      const status = await post<ConnectionView['status']>(`/api/connections/${name}/check`, {});
      expect(status).toMatchObject({ state: 'ok' });
    }
    const { id: shortFlow } = await post<{ id: string }>('/api/flows', flow(20));
    const again = await finished((await post<{ runId: string }>(`/api/flows/${shortFlow}/runs`, {})).runId);
    expect(again).toMatchObject({ status: 'succeeded', counts: { read: 20, succeeded: 20, failed: 0 } });
    // the webhook answers its (re-sealed) secret
    const delivered = await fetch(`${server.url}${hook.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sluice-secret': hook.secret },
      body: JSON.stringify([{ id: 2 }]),
    });
    expect(delivered.status).toBe(202);

    // a value sealed with the old key is refused: opened through the key ring as any process does ...
    const storage = await openSqliteStorage(databaseFile(server.dataDir));
    try {
      const ring = new SecretKeyring(storage.secrets, new SecretBox(loadSecretKey(server.dataDir, {}).key));
      for (const old of oldValues) {
        const refused = await ring.open(old.sealed).catch((err: unknown) => err);
        expect(refused).toBeInstanceOf(RetiredKeyError);
        expect((refused as Error).message).toMatch(
          new RegExp(`sealed with key ${before.id}: that key was retired at .* by a secret rotation`),
        );
      }
      // ... and through the API, once such a value is put back in the database
      const spare = newValues.find((v) => v.table === 'connections' && v.id === 'spare');
      const spareOld = oldValues.find((v) => v.table === 'connections' && v.id === 'spare');
      if (!spare || !spareOld) throw new Error('no spare connection');
      expect(await storage.secrets.replaceSealed(spare, spare.sealed, spareOld.sealed)).toBe(true);
    } finally {
      await storage.close();
    }
    const res = await fetch(`${server.url}/api/connections/spare`, {
      headers: { authorization: 'Bearer e2e-test-token-0123456789' },
    });
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('secret_key_retired');
    expect(body.error.message).toContain(`key ${before.id}: that key was retired`);
    expect(body.error.message).not.toContain('spare-token');
  }, 180_000);
});
