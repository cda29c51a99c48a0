import { readFileSync } from 'node:fs';
import { type ApiContract, type AuditEntry, apiContract, type Page, type RunDetail } from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FLOW_FILE } from '../demo.js';
import { clientAddress } from './audit.js';
import { AUDIT_DECLARATIONS, type AuditDeclaration, type MutatingRouteName } from './audit-declarations.js';
import { openTestSluice, TEST_TOKEN, type TestSluice } from './test-support.js';

let t: TestSluice;
/** The stored token every request of these tests is made with, and the actor it stands for. */
let token: string;
let actor: { kind: string; id: string; name: string };

const demo = () =>
  JSON.parse(readFileSync(DEMO_FLOW_FILE, 'utf8')) as Record<string, unknown> & {
    name: string;
    nodes: { id: string; params: Record<string, unknown> }[];
  };

async function call(method: string, path: string, body?: unknown, bearer = token): Promise<Response> {
  return t.raw.request(path, {
    method: method.toUpperCase(),
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function entriesAfter(id: string | undefined): Promise<AuditEntry[]> {
  const page = (await (await call('get', '/api/audit?limit=500')).json()) as Page<AuditEntry>;
  return page.items.filter((e) => id === undefined || Number(e.id) > Number(id));
}

const lastId = async () => (await entriesAfter(undefined))[0]?.id;

async function runStatus(runId: string): Promise<string> {
  return ((await (await call('get', `/api/runs/${runId}`)).json()) as RunDetail).status;
}

async function waitFor(runId: string, status: string): Promise<void> {
  await expect.poll(() => runStatus(runId), { timeout: 10_000, interval: 20 }).toBe(status);
}

/** What the walk knows as it goes: the objects earlier calls made. */
interface Fixtures {
  flowId: string;
  hookFlowId: string;
  tokenId: string;
  runId: string;
  failedRunId: string;
  ruleId: string;
  copyId: string;
  testRunId: string;
  /** The first admin (made by setup), its own token, and a user it adds. */
  adminId: string;
  adminToken: string;
  adminTokenId: string;
  userId: string;
}

/** A valid request to a route, and the object its entry names (undefined: none). */
interface ValidCall {
  path: string;
  body?: unknown;
  objectId: string | null;
  /** Reads what the answer made, for the calls after it. */
  after?: (answer: unknown) => void | Promise<void>;
  /** Sent with another credential than the walk's token (a user acting on its own session)... */
  bearer?: string;
  /** ...and so recorded with another actor: the user. */
  actor?: { kind: string; id: string; name: string };
}

const ADMIN = { email: 'ada@example.com', password: 'audit-password-1' };
const adminActor = (f: Fixtures) => ({ kind: 'user', id: f.adminId, name: ADMIN.email });
/** The admin's own token: the actor is the token (which acts for the admin). */
const adminToken = (f: Fixtures) => ({ kind: 'token', id: f.adminTokenId, name: 'ada' });

const alertRule = {
  name: 'Tell ops',
  condition: { kind: 'run-failed' },
  channel: { type: 'webhook', url: 'http://127.0.0.2:9/hook', secret: 'alert-secret-1234' },
};

/**
 * A valid request for every route that changes something, in an order in which each finds what it
 * needs (a run to pause, a rule to change). Typed over the declarations: a new route that changes
 * something does not compile until it has a request here too.
 */
function validCalls(f: Fixtures): { [N in MutatingRouteName]: () => Promise<ValidCall> } {
  return {
    createConnection: async () => ({
      path: '/api/connections',
      body: { name: 'audit-erp', baseUrl: t.parts.sandbox.url, auth: 'bearer', secret: 'conn-secret-1' },
      objectId: 'audit-erp',
    }),
    updateConnection: async () => ({
      path: '/api/connections/audit-erp',
      body: { checkPath: '/erp/health', secret: 'conn-secret-2' },
      objectId: 'audit-erp',
    }),
    checkConnection: async () => ({ path: '/api/connections/audit-erp/check', objectId: 'audit-erp' }),
    deleteConnection: async () => ({ path: '/api/connections/audit-erp', objectId: 'audit-erp' }),
    createToken: async () => ({
      path: '/api/tokens',
      body: { name: 'ci' },
      objectId: null,
      after: (a) => {
        f.tokenId = String((a as { info: { id: number } }).info.id);
      },
    }),
    revokeToken: async () => ({ path: `/api/tokens/${f.tokenId}`, objectId: f.tokenId }),
    setup: async () => ({
      path: '/api/auth/setup',
      body: { token: (await t.parts.identity.setupToken()) ?? '', name: 'Ada', ...ADMIN },
      objectId: null,
      after: async (a) => {
        f.adminId = String((a as { user: { id: string } }).user.id);
        const own = await t.parts.tokens.create('ada', { userId: f.adminId });
        f.adminToken = own.token;
        f.adminTokenId = String(own.info.id);
      },
      actor: { kind: 'user', id: '', name: ADMIN.email },
    }),
    login: async () => ({ path: '/api/auth/login', body: ADMIN, objectId: f.adminId, actor: adminActor(f) }),
    createUser: async () => ({
      path: '/api/users',
      body: { email: 'vic@example.com', name: 'Vic', role: 'viewer', password: 'audit-password-2' },
      objectId: null,
      after: (a) => {
        f.userId = (a as { id: string }).id;
      },
    }),
    updateUser: async () => ({ path: `/api/users/${f.userId}`, body: { role: 'operator' }, objectId: f.userId }),
    revokeSession: async () => {
      const listed = await call('get', '/api/sessions', undefined, f.adminToken);
      const [session] = ((await listed.json()) as { items: { id: string }[] }).items;
      const id = session?.id ?? 'none';
      return { path: `/api/sessions/${id}`, objectId: id, bearer: f.adminToken, actor: adminToken(f) };
    },
    changePassword: async () => ({
      path: '/api/session/password',
      body: { currentPassword: ADMIN.password, newPassword: `${ADMIN.password}!` },
      objectId: null,
      bearer: f.adminToken,
      actor: adminToken(f),
    }),
    logout: async () => ({ path: '/api/auth/logout', objectId: null }),
    deleteUser: async () => ({ path: `/api/users/${f.userId}`, objectId: f.userId }),
    prune: async () => ({ path: '/api/maintenance/prune', objectId: null }),
    createFlow: async () => ({
      path: '/api/flows',
      body: demo(),
      objectId: null,
      after: (a) => {
        f.flowId = (a as { id: string }).id;
      },
    }),
    validateFlow: async () => ({ path: '/api/flows/validate', body: demo(), objectId: null }),
    saveFlow: async () => ({
      path: `/api/flows/${f.flowId}`,
      body: { ...demo(), name: 'Audited' },
      objectId: f.flowId,
    }),
    publishFlow: async () => ({ path: `/api/flows/${f.flowId}/publish`, body: {}, objectId: f.flowId }),
    setFlowEnabled: async () => ({
      path: `/api/flows/${f.flowId}/enabled`,
      body: { enabled: false },
      objectId: f.flowId,
    }),
    rotateHook: async () => ({ path: `/api/flows/${f.hookFlowId}/hooks/incoming/rotate`, objectId: 'incoming' }),
    startRun: async () => ({
      path: `/api/flows/${f.flowId}/runs`,
      body: { trigger: 'manual' },
      objectId: null,
      after: (a) => {
        f.runId = (a as { runId: string }).runId;
      },
    }),
    pauseRun: async () => {
      await waitFor(f.runId, 'running');
      return { path: `/api/runs/${f.runId}/pause`, objectId: f.runId };
    },
    resumeRun: async () => {
      await waitFor(f.runId, 'paused');
      return { path: `/api/runs/${f.runId}/resume`, objectId: f.runId };
    },
    cancelRun: async () => ({ path: `/api/runs/${f.runId}/cancel`, objectId: f.runId }),
    retryRun: async () => ({ path: `/api/runs/${f.failedRunId}/retry`, body: {}, objectId: f.failedRunId }),
    testFlow: async () => ({
      path: `/api/flows/${f.flowId}/test`,
      body: { limit: 3 },
      objectId: f.flowId,
      after: (a) => {
        f.testRunId = (a as { runId: string }).runId;
      },
    }),
    testDraft: async () => ({ path: '/api/test', body: { limit: 3, document: demo() }, objectId: null }),
    createAlertRule: async () => ({
      path: `/api/flows/${f.flowId}/alerts`,
      body: alertRule,
      objectId: null,
      after: (a) => {
        f.ruleId = (a as { id: string }).id;
      },
    }),
    updateAlertRule: async () => ({
      path: `/api/flows/${f.flowId}/alerts/${f.ruleId}`,
      body: { ...alertRule, name: 'Tell ops at once' },
      objectId: f.ruleId,
    }),
    // the rule's receiver is outside the outbound guard's allow list: the test is refused at once
    testAlertRule: async () => ({ path: `/api/flows/${f.flowId}/alerts/${f.ruleId}/test`, objectId: f.ruleId }),
    deleteAlertRule: async () => ({ path: `/api/flows/${f.flowId}/alerts/${f.ruleId}`, objectId: f.ruleId }),
    duplicateFlow: async () => ({
      path: `/api/flows/${f.flowId}/duplicate`,
      objectId: null,
      after: (a) => {
        f.copyId = (a as { id: string }).id;
      },
    }),
    deleteFlow: async () => {
      // the run above was cancelled; a flow with runs is archived, not deleted
      await waitFor(f.runId, 'cancelled');
      await t.parts.runner.wait(f.testRunId);
      return { path: `/api/flows/${f.flowId}`, objectId: f.flowId };
    },
    restoreFlow: async () => ({ path: `/api/flows/${f.flowId}/restore`, objectId: f.flowId }),
  };
}

beforeAll(async () => {
  t = await openTestSluice({ workOrders: 2000 });
  // deliveries are sent (a rule's test answers once its attempt is over)
  t.parts.alerts.start();
  const created = await t.parts.tokens.create('auditor');
  token = created.token;
  actor = { kind: 'token', id: String(created.info.id), name: 'auditor' };
});

afterAll(async () => {
  await t?.close();
});

describe('the audit log', () => {
  it('every route that changes something leaves exactly one entry, with the actor and the declared action', async () => {
    const f = { hookFlowId: '', failedRunId: '' } as Fixtures;
    const hookFlow = JSON.parse(readFileSync(DEMO_FLOW_FILE.replace('work-orders-to-erp', 'orders-webhook'), 'utf8'));
    f.hookFlowId = ((await (await call('post', '/api/flows', hookFlow)).json()) as { id: string }).id;
    f.failedRunId = await failedRun();

    const calls = validCalls(f);
    const mutating = (Object.keys(apiContract) as (keyof ApiContract)[]).filter((n) => apiContract[n].method !== 'get');
    expect(Object.keys(calls).sort()).toEqual([...mutating].sort());
    expect(Object.keys(AUDIT_DECLARATIONS).sort()).toEqual([...mutating].sort());

    for (const name of Object.keys(calls) as MutatingRouteName[]) {
      const request = await calls[name]();
      const spec = apiContract[name];
      const before = await lastId();
      const res = await call(spec.method, request.path, request.body, request.bearer);
      expect(res.status, `${name}: ${await res.clone().text()}`).toBe(spec.success.status);
      const answer = spec.success.status === 204 ? undefined : await res.json();
      await request.after?.(answer);
      const entries = await entriesAfter(before);
      const declaration = AUDIT_DECLARATIONS[name];
      if ('notAudited' in declaration) {
        expect(entries, name).toEqual([]);
        continue;
      }
      expect(entries, name).toHaveLength(1);
      const entry = entries[0] as AuditEntry;
      const d = declaration as AuditDeclaration<MutatingRouteName>;
      // setup makes its actor: the admin's id is known once it has answered
      const expected = request.actor ?? actor;
      expect(entry.actor, name).toEqual(name === 'setup' ? { ...expected, id: f.adminId } : expected);
      expect(entry.action.startsWith(`${d.objectType}.`), `${name}: ${entry.action}`).toBe(true);
      if (!d.actionOf) expect(entry.action, name).toBe(d.action);
      expect(entry.objectType, name).toBe(d.objectType);
      expect(entry.outcome, name).toBe('ok');
      expect(entry.error, name).toBeNull();
      if (request.objectId !== null) expect(entry.objectId, name).toBe(request.objectId);
      else if (d.created) expect(entry.objectId, name).toBeTruthy();
      expect(Date.now() - Date.parse(entry.at), name).toBeLessThan(60_000);
    }

    // the answers' details came through: what made the objects, and the exact actions
    const actions = (await entriesAfter(undefined)).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['flow.archived', 'flow.disabled', 'run.cancelled']));
    const changes = (await (await call('get', '/api/audit?action=connection.changed')).json()) as Page<AuditEntry>;
    const [changed] = changes.items;
    // which fields were given, never their values
    expect(changed?.summary?.fields).toEqual(expect.arrayContaining(['checkPath', 'secret']));
    expect(JSON.stringify(changed)).not.toContain('conn-secret');
  });

  it('records a refused request once, with its error code, and no request without a valid token', async () => {
    const before = await lastId();
    expect((await call('patch', '/api/connections/nothing-here', { checkPath: '/x' })).status).toBe(404);
    expect((await call('post', '/api/flows/nope/runs')).status).toBe(404);
    expect((await call('post', '/api/tokens', { name: '' })).status).toBe(400);
    expect((await call('delete', '/api/flows/nope', undefined, 'not-a-token')).status).toBe(401);
    const entries = await entriesAfter(before);
    expect(entries.map((e) => [e.action, e.objectId, e.outcome, e.error])).toEqual([
      ['token.created', null, 'refused', 'bad_request'],
      ['run.started', null, 'refused', 'not_found'],
      ['connection.changed', 'nothing-here', 'refused', 'not_found'],
    ]);
    expect(entries.every((e) => e.actor.id === actor.id && e.summary === null)).toBe(true);
  });

  it('records a refused sign-in under the account it named, without the password', async () => {
    const before = await lastId();
    const res = await t.raw.request('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'nobody@example.com', password: 'a-wrong-password-9' }),
    });
    expect(res.status).toBe(401);
    const entries = await entriesAfter(before);
    expect(entries).toMatchObject([
      {
        action: 'user.signed_in',
        outcome: 'refused',
        actor: { kind: 'user', id: 'unknown', name: 'nobody@example.com' },
      },
    ]);
    expect(JSON.stringify(entries)).not.toContain('a-wrong-password-9');
  });

  it('lists entries filtered by actor, action, object and time, in pages', async () => {
    for (const name of ['a', 'b', 'c']) await call('post', '/api/tokens', { name: `paged-${name}` });
    const byEnv = await t.app.request('/api/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'from-env' }),
    });
    expect(byEnv.status).toBe(201);
    const get = async (q: string) => (await (await call('get', `/api/audit?${q}`)).json()) as Page<AuditEntry>;
    const env = await get('actorId=env');
    expect(env.items.map((e) => [e.actor.name, e.summary])).toEqual([['SLUICE_API_TOKEN', { name: 'from-env' }]]);
    expect(TEST_TOKEN).not.toBe(token);

    const first = await get('action=token.created&outcome=ok&limit=2');
    expect(first.items.map((e) => e.summary?.name)).toEqual(['from-env', 'paged-c']);
    const second = await get(`action=token.created&outcome=ok&limit=2&cursor=${first.nextCursor}`);
    expect(second.items.map((e) => e.summary?.name)).toEqual(['paged-b', 'paged-a']);

    const future = await get(`from=${new Date(Date.now() + 60_000).toISOString()}`);
    expect(future).toEqual({ items: [], nextCursor: null });
    const past = await get(`to=${new Date(Date.now() - 3_600_000).toISOString()}`);
    expect(past.items).toEqual([]);
    expect((await get('objectType=connection&objectId=nothing-here')).items).toHaveLength(1);
    expect((await call('get', '/api/audit?from=yesterday')).status).toBe(400);
    // append-only through the API: no route changes or removes an entry
    expect((await call('delete', '/api/audit')).status).toBe(404);
    expect((await call('put', '/api/audit')).status).toBe(404);
  });

  it('keeps entries for its own retention, then removes them', async () => {
    const kept = (await entriesAfter(undefined)).length;
    expect(kept).toBeGreaterThan(0);
    expect(await t.parts.audit.prune(365)).toBe(0);
    expect(await t.parts.audit.prune(1, Date.now() + 2 * 86_400_000)).toBe(kept);
    expect(await entriesAfter(undefined)).toEqual([]);
  });
});

describe('the client address an entry names', () => {
  it('is the TCP peer; X-Forwarded-For is believed only from a proxy named as trusted', () => {
    expect(clientAddress('::ffff:10.0.0.9', undefined, [])).toBe('10.0.0.9');
    expect(clientAddress(null, '1.2.3.4', ['10.0.0.1'])).toBeNull();
    // any client can send the header: from a peer that is not a trusted proxy it is ignored
    expect(clientAddress('203.0.113.7', '1.2.3.4', [])).toBe('203.0.113.7');
    expect(clientAddress('203.0.113.7', '1.2.3.4', ['10.0.0.1'])).toBe('203.0.113.7');
    // through the trusted proxy: the address it saw, not what the client wrote to the left of it
    expect(clientAddress('::ffff:10.0.0.1', 'spoofed, 198.51.100.2', ['10.0.0.1'])).toBe('198.51.100.2');
    // through two trusted proxies
    expect(clientAddress('10.0.0.1', '198.51.100.2, 10.0.0.2', ['10.0.0.1', '10.0.0.2'])).toBe('198.51.100.2');
    expect(clientAddress('10.0.0.1', '', ['10.0.0.1'])).toBe('10.0.0.1');
  });
});

/** A finished run with failed records, for the retry. */
async function failedRun(): Promise<string> {
  const records = [1, 'two'].map((v, i) => ({ key: `k${i}`, amount: v }));
  const flow = {
    format: 1,
    name: 'Amounts',
    nodes: [
      { id: 'start', type: 'manual' },
      { id: 'src', type: 'inline-records', params: { records, keyField: 'key' } },
      {
        id: 'double',
        type: 'map',
        params: { fields: [{ name: 'double', expression: '$type(amount) = "number" ? amount * 2 : $error("no")' }] },
      },
      { id: 'out', type: 'collect' },
    ],
    edges: [
      { source: 'start', target: 'src' },
      { source: 'src', target: 'double' },
      { source: 'double', target: 'out' },
    ],
  };
  const { id } = (await (await call('post', '/api/flows', flow)).json()) as { id: string };
  const { runId } = (await (await call('post', `/api/flows/${id}/runs`)).json()) as { runId: string };
  await t.parts.runner.wait(runId);
  return runId;
}
