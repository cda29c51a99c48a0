import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type ApiClient,
  ApiClientError,
  apiContract,
  apiErrorBodySchema,
  createApiClient,
  HTTP_STATUS,
  type RouteName,
} from '@sluice/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FLOW_FILE } from '../demo.js';
import { REPO_ROOT } from '../paths.js';
import { createApp } from './app.js';
import { openTestSluice, TEST_TOKEN, type TestSluice } from './test-support.js';

/**
 * The contract against the real app: a sample of every kind of answer, read through the typed client
 * with `validate` on, so each real answer is parsed with the strict schema its route declares (a key
 * the server sends but the contract does not declare fails here). The app is built without its own
 * answer check, so this test is what catches drift.
 */

let t: TestSluice;
let api: ApiClient;
const called = new Set<RouteName>();

const example = (file: string) =>
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', file), 'utf8')) as Record<string, unknown> & {
    nodes: { id: string; params?: Record<string, unknown> }[];
  };

beforeAll(async () => {
  t = await openTestSluice({ workOrders: 60 });
  const app = createApp(t.parts);
  const client = createApiClient({
    baseUrl: 'http://sluice.test',
    token: TEST_TOKEN,
    validate: true,
    fetch: async (url, init) => app.request(url, init),
  });
  // remembers which routes the sample reached, so the last test can say which it did not
  api = {
    url: client.url,
    call: (route, ...args) => {
      called.add(route);
      return client.call(route, ...args);
    },
  };
}, 60_000);

afterAll(() => t.close());

describe('real answers match the contract', () => {
  it('server, catalogue and settings', async () => {
    expect(await api.call('health')).toEqual({ status: 'ok', activeRuns: expect.any(Number) });
    expect(await api.call('ready')).toMatchObject({ status: 'ready', checks: { writer: { ready: true } } });
    expect((await api.call('listNodeTypes')).items.map((n) => n.type)).toContain('batch');
    expect((await api.call('listTemplates')).items.length).toBeGreaterThan(3);
    expect(await api.call('getSettings')).toMatchObject({ payloadCap: 65_536 });
    expect(await api.call('prune')).toEqual({ runs: 0, outcomes: 0 });
    expect((await api.call('getOperations')).process.concurrency).toBeGreaterThan(0);
    expect((await api.call('openApi')).openapi).toBe('3.1.0');
    expect(await api.call('flowJsonSchema')).toHaveProperty('properties');
  });

  it('flows, versions, runs, records, error groups and retries', async () => {
    const demo = example(path.basename(DEMO_FLOW_FILE));
    const pause = demo.nodes.find((n) => n.id === 'pause');
    if (pause?.params) pause.params.ms = 0;
    const flow = await api.call('createFlow', { body: demo });
    const page = await api.call('listFlows');
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((f) => f.id)).toContain(flow.id);
    await api.call('saveFlow', { params: { id: flow.id }, body: JSON.stringify(demo) });
    expect((await api.call('listVersions', { params: { id: flow.id } })).items.map((v) => v.version)).toEqual([2, 1]);
    expect((await api.call('getFlow', { params: { id: flow.id }, query: { version: 1 } })).version).toBe(1);
    expect((await api.call('validateFlow', { body: demo })).ok).toBe(true);
    await api.call('publishFlow', { params: { id: flow.id } });
    expect((await api.call('setFlowEnabled', { params: { id: flow.id }, body: { enabled: false } })).enabled).toBe(
      false,
    );

    const before = await api.call('flowEstimate', { params: { id: flow.id } });
    expect(before).toMatchObject({ flowId: flow.id, records: 60, estimateMs: null });
    const { runId } = await api.call('startRun', { params: { id: flow.id }, body: { trigger: 'manual' } });
    await t.parts.runner.wait(runId);
    const run = await api.call('getRun', { params: { id: runId } });
    expect(run.status).toBe('succeeded');
    expect(run.eta).toBeNull();
    expect(run).toMatchObject({ trigger: 'manual', runNumber: 1 });
    const after = await api.call('flowEstimate', { params: { id: flow.id }, query: { records: 600 } });
    expect(after).toMatchObject({ records: 600, measuredRuns: [runId], estimateMs: expect.any(Number) });
    expect(run.batches.length).toBeGreaterThan(0);
    const runs = await api.call('listRuns', { query: { flowId: flow.id, limit: 5 } });
    expect(runs.items[0]?.id).toBe(runId);
    const failed = await api.call('listRecords', { params: { id: runId }, query: { status: 'failed', limit: 2 } });
    expect(failed.items).toHaveLength(2);
    expect(failed.nextCursor).not.toBeNull();
    const next = await api.call('listRecords', {
      params: { id: runId },
      query: { status: 'failed', limit: 2, cursor: failed.nextCursor ?? undefined },
    });
    expect(next.items[0]?.seq).toBeGreaterThan(failed.items[1]?.seq ?? Number.POSITIVE_INFINITY);
    expect((await api.call('errorGroups', { params: { id: runId } })).items[0]?.count).toBeGreaterThan(0);
    const key = failed.items[0]?.key ?? '';
    const history = await api.call('recordHistory', { params: { id: flow.id, key } });
    expect(history.items[0]).toMatchObject({ runId, key, status: 'failed' });

    const retry = await api.call('retryRun', { params: { id: runId } });
    expect(retry).toMatchObject({ retryOf: runId, version: 'original', status: 'queued' });
    await t.parts.runner.wait(retry.runId);
    const one = await api.call('retryRun', {
      params: { id: runId },
      body: { version: 'current', records: [{ seq: failed.items[0]?.seq ?? 0, payload: { key } }] },
    });
    await t.parts.runner.wait(one.runId);
    expect((await api.call('getRun', { params: { id: one.runId } })).counts.read).toBe(1);

    // duplicate, delete (a flow with runs is archived), restore
    const copy = await api.call('duplicateFlow', { params: { id: flow.id } });
    expect(copy).toMatchObject({ name: `${flow.name} (copy)`, latestVersion: 1, archivedAt: null });
    expect(await api.call('deleteFlow', { params: { id: copy.id } })).toEqual({ archived: false });
    expect(await api.call('deleteFlow', { params: { id: flow.id } })).toEqual({ archived: true });
    const archived = await api.call('listFlows', { query: { archived: 'true' } });
    expect(archived.items.map((f) => f.id)).toEqual([flow.id]);
    expect((await api.call('restoreFlow', { params: { id: flow.id } })).archivedAt).toBeNull();
  });

  it('test runs: a draft and a saved flow, and their per-node data', async () => {
    const demo = example(path.basename(DEMO_FLOW_FILE));
    const flow = await api.call('createFlow', { body: demo });
    const saved = await api.call('testFlow', { params: { id: flow.id }, body: { limit: 3 } });
    expect(saved.status).toBe('running');
    const draft = await api.call('testDraft', { body: { document: demo, limit: 3, until: 'to-erp-shape' } });
    const data = await api.call('testData', { params: { id: draft.runId }, query: { waitMs: 20_000 } });
    expect(data.nodes['to-erp-shape']?.output).toHaveLength(3);
    await api.call('testData', { params: { id: saved.runId }, query: { waitMs: 20_000 } });
  });

  it('a run still queued can be cancelled; a finished one cannot', async () => {
    const flow = await api.call('createFlow', { body: example(path.basename(DEMO_FLOW_FILE)) });
    const { runId } = await api.call('startRun', { params: { id: flow.id } });
    const answer = await api.call('cancelRun', { params: { id: runId } }).catch((err: unknown) => err);
    // it either was still waiting (cancelling) or already finished in this instant (409): both are declared
    if (answer instanceof ApiClientError) expect(answer.status).toBe(HTTP_STATUS.CONFLICT);
    else expect(answer).toEqual({ runId, status: 'cancelling' });
    await t.parts.runner.wait(runId);
    const again = await api.call('cancelRun', { params: { id: runId } }).catch((err: unknown) => err);
    expect(again).toBeInstanceOf(ApiClientError);
    expect(again).toMatchObject({ status: HTTP_STATUS.CONFLICT, code: 'run_finished' });
  });

  it('incremental sources: watermarks and collected records', async () => {
    const flow = await api.call('createFlow', { body: example('incremental-work-orders.flow.json') });
    const { runId } = await api.call('startRun', { params: { id: flow.id } });
    await t.parts.runner.wait(runId);
    const marks = await api.call('listWatermarks', { params: { id: flow.id } });
    expect(marks.items).toEqual([expect.objectContaining({ nodeId: 'work-orders', runId })]);
    const kept = await api.call('listCollected', { params: { id: runId }, query: { limit: 10 } });
    expect(kept.items).toHaveLength(10);
  });

  it('schedules and hooks', async () => {
    const nightly = await api.call('createFlow', { body: example('nightly-work-orders.flow.json') });
    await api.call('publishFlow', { params: { id: nightly.id }, body: {} });
    const schedules = await api.call('flowSchedules', { params: { id: nightly.id } });
    expect(schedules.schedules[0]?.next).toHaveLength(5);
    const preview = await api.call('previewSchedule', { query: { cron: '0 2 * * *', timezone: 'Europe/Berlin' } });
    expect(preview.next).toHaveLength(5);

    const orders = await api.call('createFlow', { body: example('orders-webhook.flow.json') });
    const hooks = await api.call('listHooks', { params: { id: orders.id } });
    const hook = hooks.items[0];
    expect(hook?.path).toBe(`/hooks/${hook?.id}`);
    const rotated = await api.call('rotateHook', { params: { id: orders.id, nodeId: hook?.nodeId ?? '' } });
    expect(rotated.secret).not.toBe(hook?.secret);
  });

  it('connections and tokens', async () => {
    const created = await api.call('createConnection', {
      body: { name: 'contract-conn', baseUrl: 'http://127.0.0.1:9', auth: 'bearer', secret: 'top-secret-value' },
    });
    expect(created.secret).not.toContain('top-secret');
    expect((await api.call('listConnections')).items.map((c) => c.name)).toContain('contract-conn');
    await api.call('updateConnection', { params: { name: 'contract-conn' }, body: { checkPath: '/health' } });
    expect((await api.call('getConnection', { params: { name: 'contract-conn' } })).checkPath).toBe('/health');
    expect((await api.call('checkConnection', { params: { name: 'contract-conn' } }))?.state).toBe('error');
    expect(await api.call('deleteConnection', { params: { name: 'contract-conn' } })).toBeUndefined();

    const { info } = await api.call('createToken', { body: { name: 'contract' } });
    expect((await api.call('listTokens')).items.map((i) => i.id)).toContain(info.id);
    expect(await api.call('revokeToken', { params: { id: info.id } })).toBeUndefined();
  });

  it('alert rules and deliveries', async () => {
    const flow = await api.call('createFlow', { body: example('nightly-work-orders.flow.json') });
    const channel = { type: 'webhook' as const, url: 'http://127.0.0.1:9/alerts', secret: 'contract-secret' };
    const rule = await api.call('createAlertRule', {
      params: { id: flow.id },
      body: { condition: { kind: 'run-failed' }, channel },
    });
    expect(rule.channel.hasSecret).toBe(true);
    expect((await api.call('listAlertRules', { params: { id: flow.id } })).items.map((r) => r.id)).toEqual([rule.id]);
    const changed = await api.call('updateAlertRule', {
      params: { id: flow.id, ruleId: rule.id },
      body: { condition: { kind: 'run-longer', seconds: 60 }, channel: { type: 'webhook', url: channel.url } },
    });
    expect(changed.name).toBe('Run longer than 1 min');
    expect((await api.call('listAlertDeliveries', { query: { flowId: flow.id } })).items).toEqual([]);
    // a test goes out at once (nothing listens on port 9: refused, after its one attempt)
    t.parts.alerts.start();
    const tested = await api.call('testAlertRule', { params: { id: flow.id, ruleId: rule.id } });
    expect(tested).toMatchObject({ ruleId: rule.id, status: 'failed', attempts: 1, test: true });
    expect((await api.call('listAlertDeliveries', { query: { flowId: flow.id } })).items.map((d) => d.id)).toEqual([
      tested.id,
    ]);
    expect(await api.call('deleteAlertRule', { params: { id: flow.id, ruleId: rule.id } })).toBeUndefined();
  });

  it('the audit log', async () => {
    const page = await api.call('listAudit', { query: { action: 'alert_rule.created', limit: 5 } });
    expect(page.items[0]).toMatchObject({ action: 'alert_rule.created', objectType: 'alert_rule', outcome: 'ok' });
    expect(JSON.stringify(page)).not.toContain('contract-secret');
  });

  it('signing in, sessions and users', async () => {
    const token = await t.parts.identity.setupToken();
    const password = 'contract-password-1';
    const admin = await api.call('setup', {
      body: { token: token ?? '', email: 'Admin@Example.com', name: 'Ada', password },
    });
    expect(admin).toMatchObject({ role: 'admin', user: { email: 'admin@example.com' }, csrfToken: expect.any(String) });
    const signedIn = await api.call('login', { body: { email: 'admin@example.com', password } });
    expect(signedIn.permissions).toContain('users.manage');
    expect(await api.call('getSession')).toMatchObject({ actor: { kind: 'token', id: 'env' }, user: null });
    const viewer = await api.call('createUser', {
      body: { email: 'viewer@example.com', name: 'Vic', role: 'viewer', password },
    });
    expect((await api.call('listUsers')).items.map((u) => u.email)).toEqual([
      'admin@example.com',
      'viewer@example.com',
    ]);
    expect(await api.call('updateUser', { params: { id: viewer.id }, body: { role: 'operator' } })).toMatchObject({
      role: 'operator',
    });
    // the admin's own token: its session routes act on the admin's sessions
    const own = await api.call('createToken', { body: { name: 'ada', userId: admin.user?.id ?? '' } });
    expect(own.info).toMatchObject({ userId: admin.user?.id, role: 'admin' });
    const client = createApiClient({
      token: own.token,
      validate: true,
      fetch: async (u, i) => createApp(t.parts).request(u, i),
    });
    const sessions = (await api.call('listSessions')).items;
    expect(sessions).toEqual([]);
    const mine = await client.call('listSessions');
    called.add('listSessions');
    expect(mine.items).toHaveLength(2);
    expect(
      await client.call('changePassword', { body: { currentPassword: password, newPassword: `${password}!` } }),
    ).toBeUndefined();
    called.add('changePassword');
    expect((await client.call('listSessions')).items).toEqual([]);
    const again = await api.call('login', { body: { email: 'admin@example.com', password: `${password}!` } });
    expect(again.role).toBe('admin');
    const [session] = (await client.call('listSessions')).items;
    expect(await api.call('revokeSession', { params: { id: 'none' } }).catch((err: unknown) => err)).toMatchObject({
      status: HTTP_STATUS.NOT_FOUND,
    });
    expect(await client.call('revokeSession', { params: { id: session?.id ?? '' } })).toBeUndefined();
    expect(await api.call('logout')).toBeUndefined();
    expect(await api.call('deleteUser', { params: { id: viewer.id } })).toBeUndefined();
  });

  it('errors: the error body, with the status the route declares', async () => {
    const res = await t.app.request('/api/runs/999999');
    expect(res.status).toBe(HTTP_STATUS.NOT_FOUND);
    expect(apiErrorBodySchema.parse(await res.json()).error.code).toBe('not_found');
    const refused = await api.call('getRun', { params: { id: '999999' } }).catch((err: unknown) => err);
    expect(refused).toMatchObject({ status: HTTP_STATUS.NOT_FOUND, code: 'not_found' });
    const bad = await api.call('listRuns', { query: { limit: 501 } }).catch((err: unknown) => err);
    expect(bad).toMatchObject({ status: HTTP_STATUS.BAD_REQUEST, path: 'limit' });
  });

  it('drift fails: an undeclared key in an answer', async () => {
    // the same settings with one key the contract does not declare
    const settings = Object.assign({}, t.parts.settings, { undeclared: true });
    const drifted = createApp({ ...t.parts, settings });
    const client = createApiClient({ token: TEST_TOKEN, validate: true, fetch: async (u, i) => drifted.request(u, i) });
    await expect(client.call('getSettings')).rejects.toMatchObject({ code: 'bad_response' });
    // and the app's own check (on in every other server test) answers 500 instead of sending it
    const checked = createApp({ ...t.parts, settings }, { checkAnswers: true });
    const res = await checked.request('/api/settings', { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    expect(res.status).toBe(HTTP_STATUS.INTERNAL);
  });

  it('reached every JSON route but pause and resume (which need a run caught mid-flight)', () => {
    const json = (Object.keys(apiContract) as RouteName[]).filter((name) => !('stream' in apiContract[name].success));
    expect(json.filter((name) => !called.has(name)).sort()).toEqual(['pauseRun', 'resumeRun']);
  });
});
