import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ConnectionView, RunDetail, Settings } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { sealedKeyId } from '../../server/src/connections/secrets.js';
import { openPostgresStorage } from '../../server/src/storage/postgres/index.js';
import { pgDeployment } from '../support/deployment.js';
import { api, eventually, REPO_ROOT } from '../support/server.js';

const exec = promisify(execFile);

/**
 * `sluice secrets rotate` on PostgreSQL with the master key from the environment (SLUICE_SECRET_KEY,
 * unchanged): an API process and a worker share the database, a run goes on in the worker, and a
 * connection is made through the API while the rotation runs. Both processes pick the new key up by
 * themselves: the run finishes, the next run (in the worker) and the checks (in the API process) open
 * the re-sealed secrets, and no value is left under the retired key, the one sealed meanwhile included.
 */
const deployment = pgDeployment();
const RECORDS = 150;

const flow = (records: number, connection: string) => ({
  format: 2,
  name: `Writes through ${connection} (${records})`,
  nodes: [
    { id: 'start', type: 'manual' },
    { id: 'gen', type: 'generate', params: { count: records, pageSize: 50 } },
    { id: 'pace', type: 'delay', params: { mode: 'rate', records: 10, intervalMs: 1000 } },
    {
      id: 'shape',
      type: 'map',
      params: {
        keep: 'none',
        fields: [
          { name: 'externalKey', expression: `"pg-" & $string($millis()) & "-" & key` },
          { name: 'title', expression: 'label' },
          { name: 'assetKey', expression: '"AS-PUMP-0001"' },
        ],
      },
    },
    { id: 'write', type: 'http-write', params: { connection, url: '/api/erp/work-orders' } },
  ],
  edges: [
    { source: 'start', target: 'gen' },
    { source: 'gen', target: 'pace' },
    { source: 'pace', target: 'shape' },
    { source: 'shape', target: 'write' },
  ],
});

describe('sluice secrets rotate with several processes on PostgreSQL', () => {
  it('every process picks up the new key: the run in the worker finishes, later runs and checks work, nothing is left under the old key', async () => {
    const sandbox = await deployment.sandbox(10);
    const env = deployment.env(sandbox.url);
    const apiProcess = await deployment.apiOnly(env);
    await deployment.worker(env);
    const url = apiProcess.url;
    const post = <T>(p: string, body: unknown) =>
      api<T>(`${url}${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const connection = (name: string) => ({
      name,
      baseUrl: `${sandbox.url}/erp`,
      auth: 'bearer',
      secret: 'sandbox-erp-token',
      checkPath: '/api/erp/status',
    });
    await post('/api/connections', connection('erp'));
    const { id: flowId } = await post<{ id: string }>('/api/flows', flow(RECORDS, 'erp'));
    const before = (await api<Settings>(`${url}/api/settings`)).secretKey;

    const { runId } = await post<{ runId: string }>(`/api/flows/${flowId}/runs`, {});
    await eventually(async () => {
      const d = await api<RunDetail>(`${url}/api/runs/${runId}`);
      return d.status === 'running' && d.counts.read > 0 ? d : undefined;
    });
    const rotation = exec(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'server/src/cli/main.ts'), 'secrets', 'rotate'],
      { cwd: REPO_ROOT, env: { ...process.env, ...env } },
    );
    // a connection made while the rotation goes on, by another process
    await new Promise((r) => setTimeout(r, 2_500));
    await post('/api/connections', connection('erp-late'));
    const { stdout } = await rotation;
    const [keyId] = stdout.trim().split('\t');
    expect(keyId).toMatch(/^k[0-9a-f]{10}$/);
    expect(keyId).not.toBe(before.id);

    const finished = (id: string) =>
      eventually(
        async () => {
          const d = await api<RunDetail>(`${url}/api/runs/${id}`);
          return ['succeeded', 'failed', 'cancelled'].includes(d.status) ? d : undefined;
        },
        120_000,
        500,
      );
    expect(await finished(runId)).toMatchObject({ status: 'succeeded', counts: { read: RECORDS, failed: 0 } });
    expect((await api<Settings>(`${url}/api/settings`)).secretKey.id).toBe(keyId);

    const storage = await openPostgresStorage(deployment.url);
    try {
      const values = await storage.secrets.sealedValues();
      expect(values.map((v) => v.id).sort()).toEqual(['erp', 'erp-late']);
      expect(values.map((v) => sealedKeyId(v.sealed))).toEqual([keyId, keyId]);
      expect((await storage.secrets.keys()).find((k) => k.id === before.id)).toMatchObject({ sealedKey: null });
    } finally {
      await storage.close();
    }
    for (const name of ['erp', 'erp-late']) {
      expect(await post<ConnectionView['status']>(`/api/connections/${name}/check`, {})).toMatchObject({ state: 'ok' });
      const { id } = await post<{ id: string }>('/api/flows', flow(10, name));
      const again = await finished((await post<{ runId: string }>(`/api/flows/${id}/runs`, {})).runId);
      expect(again).toMatchObject({ status: 'succeeded', counts: { read: 10, succeeded: 10, failed: 0 } });
    }
  }, 180_000);
});
