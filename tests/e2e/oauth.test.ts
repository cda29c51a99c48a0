import type { RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErpStats } from '../../server/src/sandbox/erp.js';
import { type Sandbox, startSandbox } from '../../server/src/sandbox/index.js';
import { api, eventually, type RunningServer, startServer } from '../support/server.js';

/**
 * OAuth2 against the sandbox's token endpoint, the server in its own process: a 90-second run with
 * 20-second tokens, which needs about 5 token requests (each renewed a tenth of its lifetime ahead:
 * at 0, 18, 36, 54 and 72 s), not one per request.
 */
const TOKEN_TTL_MS = 20_000;
const RUN_MS = 90_000;
/** Records let through per second by the flow's rate delay: the run lasts RUN_MS (its last second's start). */
const PER_SECOND = 10;
const RECORDS = (RUN_MS / 1000) * PER_SECOND;
const CLIENT_ID = 'sluice-e2e';
const CLIENT_SECRET = 'e2e-client-secret';

let sandbox: Sandbox;
let server: RunningServer;
beforeAll(async () => {
  // the sandbox here, so the test can revoke the secret and count token requests; the server uses it
  sandbox = await startSandbox({ workOrders: 10, tokenTtlMs: TOKEN_TTL_MS });
  sandbox.oauth.setSecret(CLIENT_ID, CLIENT_SECRET);
  server = await startServer({ SLUICE_SANDBOX_URL: sandbox.url });
});
afterAll(async () => {
  await server?.stop();
  await sandbox?.close();
});

const post = <T>(p: string, body: unknown) =>
  api<T>(`${server.url}${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** manual → generate → work orders → PER_SECOND a second → POST each to the ERP through `connection`. */
function flow(connection: string) {
  return {
    format: 2,
    name: `OAuth2 writes through ${connection}`,
    nodes: [
      { id: 'start', type: 'manual' },
      { id: 'gen', type: 'generate', params: { count: RECORDS, pageSize: 100 } },
      {
        id: 'shape',
        type: 'map',
        params: {
          keep: 'none',
          fields: [
            { name: 'externalKey', expression: `"oauth-" & key` },
            { name: 'title', expression: 'label' },
            { name: 'assetKey', expression: '"AS-PUMP-0001"' },
          ],
        },
      },
      { id: 'pace', type: 'delay', params: { mode: 'rate', records: PER_SECOND, intervalMs: 1000 } },
      { id: 'erp', type: 'http-write', params: { connection, url: '/api/erp/work-orders' } },
    ],
    edges: [
      { source: 'start', target: 'gen' },
      { source: 'gen', target: 'shape' },
      { source: 'shape', target: 'pace' },
      { source: 'pace', target: 'erp' },
    ],
  };
}

async function run(flowId: string): Promise<RunDetail> {
  const { runId } = await post<{ runId: string }>(`/api/flows/${flowId}/runs`, {});
  return eventually(
    async () => {
      const detail = await api<RunDetail>(`${server.url}/api/runs/${runId}`);
      return ['succeeded', 'failed', 'cancelled'].includes(detail.status) ? detail : undefined;
    },
    RUN_MS + 60_000,
    500,
  );
}

describe('OAuth2 client credentials against the sandbox', () => {
  it(
    'runs 4.5 token lifetimes with no record failing, asking the token endpoint about 5 times; a revoked secret then fails the run at the pre-check',
    async () => {
      await post('/api/connections', {
        name: 'erp-oauth',
        baseUrl: `${sandbox.url}/erp`,
        auth: 'oauth2',
        oauth2: { tokenUrl: `${sandbox.url}/oauth/token`, clientId: CLIENT_ID, scopes: 'erp.write' },
        secret: CLIENT_SECRET,
        checkPath: '/api/erp/status',
      });
      const { id } = await post<{ id: string }>('/api/flows', flow('erp-oauth'));

      const detail = await run(id);
      expect(detail.status).toBe('succeeded');
      expect(detail.counts).toMatchObject({ read: RECORDS, succeeded: RECORDS, failed: 0 });
      const took = Date.parse(detail.finishedAt as string) - Date.parse(detail.startedAt as string);
      expect(took).toBeGreaterThanOrEqual(RUN_MS - 1000);
      expect(took).toBeLessThan(RUN_MS + 10_000);

      const stats = await api<ErpStats>(`${sandbox.url}/erp/_sandbox/stats`);
      expect(stats.entities['work-orders'].accepted).toBe(RECORDS);
      const tokens = sandbox.oauth.stats();
      // tokens are renewed before they expire: the ERP never had to refuse one
      expect(tokens.rejectedAtSystems).toBe(0);
      expect(tokens.refused).toBe(0);
      expect(tokens.tokenRequests).toBeGreaterThanOrEqual(4);
      expect(tokens.tokenRequests).toBeLessThanOrEqual(6);

      sandbox.oauth.revoke(CLIENT_ID);
      const refused = await run(id);
      expect(refused.status).toBe('failed');
      expect(refused.counts.read).toBe(0);
      expect(refused.error).toMatch(
        /^connection "erp-oauth": the token endpoint of connection "erp-oauth" refused the credentials \(HTTP 401, invalid_client/,
      );
    },
    RUN_MS + 90_000,
  );
});
