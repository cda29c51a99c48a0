import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlertDelivery, AlertRuleView } from '@sluice/shared';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SecretBox } from '../connections/secrets.js';
import { DEMO_FLOW_FILE } from '../demo.js';
import { openTestSluice, type TestSluice } from '../http/test-support.js';
import { SIGNATURE_HEADER, signBody } from '../webhooks/webhooks.js';
import { Alerts } from './alerts.js';
import { DELIVERY_HEADER } from './channels.js';
import { AlertDeliverer } from './deliveries.js';
import type { AlertMessage } from './message.js';

/**
 * Alerts end to end: the demo flow against the sandbox ERP (86 of 1,000 records fail), rules on it,
 * and real receivers on loopback: HTTP servers standing for a webhook receiver and a Slack-compatible
 * one, and an SMTP server (smtp-server) standing for the mail relay.
 */

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTP receiver on loopback answering `statuses` in turn, then 200. */
async function receiver(statuses: number[] = []): Promise<{ url: string; got: Received[]; server: Server }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = statuses.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'receiver is down');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, got, server };
}

interface Mail {
  from: string;
  to: string[];
  user: string | undefined;
  raw: string;
}

/** An SMTP server on loopback that takes one user and password and keeps every message. */
async function smtpSink(user: string, password: string): Promise<{ port: number; mails: Mail[]; server: SMTPServer }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) callback(null, { user });
      else callback(new Error('bad user or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.server.address() as AddressInfo).port, mails, server };
}

/** A message body's text with quoted-printable soft breaks and escapes undone (ASCII is all we read). */
const unquoted = (raw: string) =>
  raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));

type Json = Record<string, unknown>;
type Doc = Json & { nodes: { id: string; params?: Json }[]; edges: { sourcePort?: string; target: string }[] };

const demo = (pauseMs: number): Doc => {
  const doc = JSON.parse(readFileSync(DEMO_FLOW_FILE, 'utf8')) as Doc;
  (doc.nodes.find((n) => n.id === 'pause') as { params: Json }).params.ms = pauseMs;
  return doc;
};

let t: TestSluice;
const closers: (() => Promise<unknown> | undefined)[] = [];

async function call<T>(method: string, path: string, body?: unknown, expected = 200): Promise<T> {
  const res = await t.app.request(path, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (res.status !== expected) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

const createFlow = async (doc: unknown) => (await call<{ id: string }>('POST', '/api/flows', doc, 201)).id;
const addRule = (flowId: string, rule: unknown) =>
  call<AlertRuleView>('POST', `/api/flows/${flowId}/alerts`, rule, 201);
const deliveriesOf = async (flowId: string) =>
  (await call<{ items: AlertDelivery[] }>('GET', `/api/alert-deliveries?limit=20&flowId=${flowId}`)).items;

/** The server's own SMTP server (SLUICE_SMTP_URL), for e-mail rules that name none. */
let relay: Awaited<ReturnType<typeof smtpSink>>;

beforeAll(async () => {
  relay = await smtpSink('relay-user', 'relay-password');
  closers.push(() => new Promise<void>((r) => relay.server.close(() => r())));
  t = await openTestSluice({
    workOrders: 1000,
    env: {
      // retries 200 ms apart at first (the default is 2 s), so the test of three attempts stays short
      SLUICE_ALERT_RETRY_MS: '200',
      SLUICE_SMTP_URL: `smtp://relay-user:relay-password@127.0.0.1:${relay.port}`,
      SLUICE_SMTP_FROM: 'sluice-alerts@example.test',
    },
  });
  t.parts.alerts.start();
}, 60_000);

afterAll(async () => {
  await t?.close();
  for (const close of closers.splice(0)) await close();
});

describe('alerts on a run with failed records over the threshold', () => {
  it('sends one signed webhook alert within 5 s, an e-mail, retries a failing receiver until its third try, and lists the deliveries', async () => {
    const hook = await receiver();
    const flaky = await receiver([500, 500]);
    const unused = await receiver();
    const smtp = await smtpSink('alerts', 'smtp-password-42');
    closers.push(
      () => new Promise((r) => hook.server.close(r)),
      () => new Promise((r) => flaky.server.close(r)),
      () => new Promise((r) => unused.server.close(r)),
      () => new Promise<void>((r) => smtp.server.close(() => r())),
    );

    const flowId = await createFlow(demo(0));
    const signed = await addRule(flowId, {
      condition: { kind: 'failed-records', minFailed: 50 },
      channel: { type: 'webhook', url: hook.url, secret: 'hook-secret-0123' },
    });
    const mail = await addRule(flowId, {
      name: 'Too many rejects (mail)',
      condition: { kind: 'failed-records', minShare: 0.05 },
      channel: {
        type: 'email',
        to: ['ops@example.test'],
        smtpUrl: `smtp://127.0.0.1:${smtp.port}`,
        username: 'alerts',
        secret: 'smtp-password-42',
      },
    });
    const relayed = await addRule(flowId, {
      condition: { kind: 'failed-records', minFailed: 1 },
      channel: { type: 'email', to: ['oncall@example.test', 'lead@example.test'] },
    });
    const retried = await addRule(flowId, {
      condition: { kind: 'failed-records', minFailed: 86 },
      channel: { type: 'webhook', url: flaky.url, secret: 'flaky-secret-0123' },
    });
    // conditions the run does not meet: it succeeds, and 86 is under 87
    const notMet = [
      await addRule(flowId, {
        condition: { kind: 'run-failed' },
        channel: { type: 'webhook', url: unused.url, secret: 'unused-secret-01' },
      }),
      await addRule(flowId, {
        condition: { kind: 'failed-records', minFailed: 87, minShare: 0.09 },
        channel: { type: 'slack', url: unused.url },
      }),
    ];
    expect(signed.name).toBe('Failed records: 50 or more');
    expect(mail.channel).toEqual({
      type: 'email',
      url: null,
      to: ['ops@example.test'],
      smtpUrl: `smtp://127.0.0.1:${smtp.port}`,
      username: 'alerts',
      hasSecret: true,
    });

    // secrets are sealed at rest and never answered
    const listed = await t.app.request(`/api/flows/${flowId}/alerts`);
    const text = await listed.text();
    for (const secret of ['hook-secret-0123', 'smtp-password-42', 'flaky-secret-0123']) {
      expect(text).not.toContain(secret);
      for (const row of await t.parts.storage.alerts.rules(flowId)) expect(row.secret ?? '').not.toContain(secret);
    }
    expect((JSON.parse(text) as { items: AlertRuleView[] }).items.map((r) => r.id)).toEqual([
      signed.id,
      mail.id,
      relayed.id,
      retried.id,
      ...notMet.map((r) => r.id),
    ]);

    const { runId } = await call<{ runId: string }>('POST', `/api/flows/${flowId}/runs`, undefined, 202);
    const result = await t.parts.runner.wait(runId);
    const finishedAt = Date.now();
    expect(result.status).toBe('succeeded');
    expect(result.counts).toMatchObject({ read: 1000, failed: 86 });

    // the signed alert arrives within 5 s of the run's end
    await vi.waitFor(() => expect(hook.got).toHaveLength(1), { timeout: 5000, interval: 50 });
    expect(Date.now() - finishedAt).toBeLessThan(5000);
    const [request] = hook.got as [Received];
    expect(request.headers[SIGNATURE_HEADER]).toBe(signBody('hook-secret-0123', request.body));
    const alert = JSON.parse(request.body) as AlertMessage & { deliveryId: string };
    expect(alert).toMatchObject({
      type: 'sluice.alert',
      rule: { id: signed.id, kind: 'failed-records' },
      flow: { id: flowId },
      run: { id: runId, status: 'succeeded', counts: { read: 1000, failed: 86, succeeded: 914 } },
      slot: null,
    });
    expect(alert.summary).toContain('86 of 1,000 records failed (8.6 %)');
    expect(request.headers[DELIVERY_HEADER]).toBe(alert.deliveryId);

    // the e-mail, signed in with the sealed password
    await vi.waitFor(() => expect(smtp.mails).toHaveLength(1), { timeout: 10_000, interval: 50 });
    const [email] = smtp.mails as [Mail];
    expect(email.user).toBe('alerts');
    expect(email.to).toEqual(['ops@example.test']);
    expect(email.raw).toMatch(/^Subject: /m);
    expect(unquoted(email.raw)).toContain('Records: 1,000 read, 914 succeeded, 86 failed, 0 filtered');
    expect(unquoted(email.raw)).toContain(`Run: ${runId}, succeeded`);

    // and through the server's own SMTP server, from its sender
    await vi.waitFor(() => expect(relay.mails).toHaveLength(1), { timeout: 10_000, interval: 50 });
    expect(relay.mails[0]).toMatchObject({
      user: 'relay-user',
      from: 'sluice-alerts@example.test',
      to: ['oncall@example.test', 'lead@example.test'],
    });

    // the receiver answering 500 twice gets it on the third try: the same delivery each time
    await vi.waitFor(() => expect(flaky.got).toHaveLength(3), { timeout: 10_000, interval: 50 });
    const ids = flaky.got.map((g) => g.headers[DELIVERY_HEADER]);
    expect(new Set(ids).size).toBe(1);
    for (const g of flaky.got) expect(g.headers[SIGNATURE_HEADER]).toBe(signBody('flaky-secret-0123', g.body));

    // the deliveries, by the API: one per rule whose condition the run met
    await vi.waitFor(
      async () =>
        expect((await deliveriesOf(flowId)).map((d) => d.status)).toEqual([
          'delivered',
          'delivered',
          'delivered',
          'delivered',
        ]),
      { timeout: 10_000, interval: 100 },
    );
    const deliveries = await deliveriesOf(flowId);
    const byRule = new Map(deliveries.map((d) => [d.ruleId, d]));
    expect([...byRule.keys()].sort()).toEqual([signed.id, mail.id, relayed.id, retried.id].sort());
    expect(byRule.get(retried.id)).toMatchObject({
      id: ids[0],
      flowId,
      flowName: 'Work orders → ERP',
      runId,
      rule: 'failed-records',
      channel: 'webhook',
      status: 'delivered',
      attempts: 3,
      lastError: null,
      nextAttemptAt: null,
    });
    expect(byRule.get(signed.id)).toMatchObject({ id: alert.deliveryId, attempts: 1, channel: 'webhook' });
    expect(byRule.get(mail.id)).toMatchObject({ attempts: 1, channel: 'email', ruleName: 'Too many rejects (mail)' });
    for (const d of deliveries) expect(d.deliveredAt).not.toBeNull();
    // every flow's deliveries, newest first, with this flow's among them
    const all = (await call<{ items: AlertDelivery[] }>('GET', '/api/alert-deliveries?limit=50')).items;
    expect(all.filter((d) => d.flowId === flowId).map((d) => d.id)).toEqual(deliveries.map((d) => d.id));
    // the rules the run did not meet sent nothing
    expect(unused.got).toEqual([]);
    // a second look at the finished run (another process, a restart) raises nothing new
    await t.parts.alerts.runFinished(runId);
    expect(await deliveriesOf(flowId)).toHaveLength(4);
  }, 60_000);
});

describe('alerts while a run goes on, when it fails, and for a missed slot', () => {
  it('tells a Slack-compatible webhook once when a run goes on longer than its rule allows', async () => {
    const slack = await receiver();
    closers.push(() => new Promise((r) => slack.server.close(r)));
    // 20 batches 300 ms apart: the run takes several seconds
    const flowId = await createFlow({ ...demo(300), name: 'Slow work orders' });
    await addRule(flowId, {
      condition: { kind: 'run-longer', seconds: 1 },
      channel: { type: 'slack', url: slack.url },
    });
    const { runId } = await call<{ runId: string }>('POST', `/api/flows/${flowId}/runs`, undefined, 202);
    await vi.waitFor(
      async () => {
        const run = await t.parts.runs.get(runId);
        expect(run.status).toBe('running');
        expect(Date.now() - Date.parse(run.startedAt ?? '')).toBeGreaterThan(1100);
      },
      { timeout: 10_000, interval: 100 },
    );
    // what the timer does every few seconds, twice: one alert
    await t.parts.alerts.tick();
    await t.parts.alerts.tick();
    await vi.waitFor(() => expect(slack.got).toHaveLength(1), { timeout: 5000, interval: 50 });
    const { text } = JSON.parse(slack.got[0]?.body ?? '{}') as { text: string };
    expect(text).toMatch(/^\*Slow work orders: run #1 \(id \d+\) has been running for \d+ s, longer than 1 s\*\n/);
    expect(text).toContain('Rule: Run longer than 1 s');
    await call('POST', `/api/runs/${runId}/cancel`, undefined, 202);
    await t.parts.runner.wait(runId);
    await t.parts.alerts.tick();
    expect((await deliveriesOf(flowId)).map((d) => [d.rule, d.channel, d.runId])).toEqual([
      ['run-longer', 'slack', runId],
    ]);
    expect(slack.got).toHaveLength(1);
  }, 30_000);

  it('alerts when a run fails', async () => {
    const hook = await receiver();
    closers.push(() => new Promise((r) => hook.server.close(r)));
    // no error branch, and a record with nothing on its error port stops the run
    const doc = demo(0);
    doc.nodes = doc.nodes.filter((n) => n.id !== 'rejected' && n.id !== 'dead-letter');
    doc.edges = doc.edges.filter((e) => e.sourcePort !== 'error' && e.target !== 'dead-letter');
    const flowId = await createFlow({ ...doc, name: 'Strict work orders', settings: { onError: 'stop' } });
    const rule = await addRule(flowId, {
      condition: { kind: 'run-failed' },
      channel: { type: 'webhook', url: hook.url, secret: 'strict-secret-01' },
    });
    const { runId } = await call<{ runId: string }>('POST', `/api/flows/${flowId}/runs`, undefined, 202);
    expect((await t.parts.runner.wait(runId)).status).toBe('failed');
    await vi.waitFor(() => expect(hook.got).toHaveLength(1), { timeout: 5000, interval: 50 });
    const alert = JSON.parse(hook.got[0]?.body ?? '{}') as AlertMessage;
    expect(alert).toMatchObject({ rule: { id: rule.id, kind: 'run-failed' }, run: { id: runId, status: 'failed' } });
    expect(alert.summary).toMatch(/^Strict work orders: run #1 \(id \d+\) failed: /);
  }, 30_000);

  it('gives up at once on a webhook the outbound guard refuses (127.0.0.2 is outside the allow list)', async () => {
    const doc = demo(0);
    doc.nodes = doc.nodes.filter((n) => n.id !== 'rejected' && n.id !== 'dead-letter');
    doc.edges = doc.edges.filter((e) => e.sourcePort !== 'error' && e.target !== 'dead-letter');
    const flowId = await createFlow({ ...doc, name: 'Alerts to a loopback address', settings: { onError: 'stop' } });
    await addRule(flowId, {
      condition: { kind: 'run-failed' },
      channel: { type: 'webhook', url: 'http://127.0.0.2:9/alerts', secret: 'guarded-secret-01' },
    });
    const { runId } = await call<{ runId: string }>('POST', `/api/flows/${flowId}/runs`, undefined, 202);
    expect((await t.parts.runner.wait(runId)).status).toBe('failed');
    // failed for good (not pending a retry) after its first attempt, of the 8 it would have had
    await vi.waitFor(async () => expect((await deliveriesOf(flowId))[0]?.status).toBe('failed'), {
      timeout: 5000,
      interval: 50,
    });
    const [delivery] = await deliveriesOf(flowId);
    expect(delivery).toMatchObject({
      attempts: 1,
      lastError: 'outbound guard: 127.0.0.2 is a loopback address; allow it with SLUICE_ALLOW_HOSTS',
    });
  }, 30_000);

  it('alerts once for a schedule slot that fired more than a minute late, not for one on time', async () => {
    const hook = await receiver();
    closers.push(() => new Promise((r) => hook.server.close(r)));
    const flowId = await createFlow({
      format: 1,
      name: 'Hourly',
      nodes: [
        {
          id: 'when',
          type: 'schedule',
          params: { cron: '0 * * * *', timezone: 'UTC', catchUp: 'latest', overlap: 'queue' },
        },
        { id: 'src', type: 'inline-records', params: { records: [{ key: 'a' }], keyField: 'key' } },
      ],
      edges: [{ source: 'when', target: 'src' }],
    });
    await call('POST', `/api/flows/${flowId}/publish`);
    await addRule(flowId, {
      condition: { kind: 'slot-missed' },
      channel: { type: 'webhook', url: hook.url, secret: 'slot-secret-0123' },
    });
    const { scheduler } = t.parts;
    await scheduler.tick(Date.parse('2026-01-01T00:30:00Z')); // arms it
    await scheduler.tick(Date.parse('2026-01-01T01:05:00Z')); // the 01:00 slot, 5 min late
    await scheduler.tick(Date.parse('2026-01-01T02:00:20Z')); // the 02:00 slot, 20 s late: in time
    await vi.waitFor(() => expect(hook.got).toHaveLength(1), { timeout: 5000, interval: 50 });
    const alert = JSON.parse(hook.got[0]?.body ?? '{}') as AlertMessage;
    expect(alert).toMatchObject({
      rule: { kind: 'slot-missed' },
      run: null,
      slot: { nodeId: 'when', at: '2026-01-01T01:00:00.000Z', reason: 'fired 300 s late' },
    });
    // the same slot reported again (another process) raises nothing new
    await t.parts.alerts.slotMissed({
      flowId,
      nodeId: 'when',
      slot: Date.parse('2026-01-01T01:00:00Z'),
      reason: 'again',
    });
    expect(await deliveriesOf(flowId)).toHaveLength(1);
    expect(hook.got).toHaveLength(1);
  }, 30_000);
});

describe('alert rules through the API', () => {
  it('refuses bad rules naming the field, keeps a secret across edits, and removes rules', async () => {
    const flowId = await createFlow({ ...demo(0), name: 'Rules only' });
    const refused = async (body: unknown, path: string) => {
      const res = await t.app.request(`/api/flows/${flowId}/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: { message: string; path: string } };
      expect(error.path).toBe(path);
      return error.message;
    };
    const hook = { type: 'webhook', url: 'http://127.0.0.1:9/alerts' };
    expect(await refused({ condition: { kind: 'run-failed' }, channel: hook }, 'channel.secret')).toMatch(
      /^channel\.secret: /,
    );
    await refused(
      { condition: { kind: 'failed-records' }, channel: { ...hook, secret: 'long-enough' } },
      'condition.minFailed',
    );
    await refused(
      { condition: { kind: 'run-longer', seconds: 0 }, channel: { ...hook, secret: 'long-enough' } },
      'condition.seconds',
    );
    await refused({ condition: { kind: 'run-failed' }, channel: { type: 'slack', url: 'ftp://x' } }, 'channel.url');
    // a user goes with a server of the channel's own, not in its URL
    const mail = { type: 'email', to: ['a@example.test'] };
    await refused(
      { condition: { kind: 'run-failed' }, channel: { ...mail, username: 'u', secret: 'p' } },
      'channel.smtpUrl',
    );
    await refused(
      { condition: { kind: 'run-failed' }, channel: { ...mail, smtpUrl: 'smtp://u:p@127.0.0.1:25' } },
      'channel.smtpUrl',
    );

    const rule = await addRule(flowId, {
      condition: { kind: 'run-failed' },
      channel: { ...hook, secret: 'first-secret' },
    });
    const sealed = (await t.parts.storage.alerts.rule(rule.id))?.secret;
    const path = `/api/flows/${flowId}/alerts/${rule.id}`;
    // a change without the secret keeps it
    const renamed = await call<AlertRuleView>('PUT', path, {
      name: 'Renamed',
      enabled: false,
      condition: { kind: 'run-failed' },
      channel: hook,
    });
    expect(renamed).toMatchObject({ name: 'Renamed', enabled: false, channel: { hasSecret: true } });
    expect((await t.parts.storage.alerts.rule(rule.id))?.secret).toBe(sealed);
    // another channel type drops it; a Slack URL is a credential: sealed, shown only by its host
    const slackUrl = 'http://127.0.0.1:9/services/T0001/B0002/s3cr3tW3bh00kPath';
    const slack = await call<AlertRuleView>('PUT', path, {
      condition: { kind: 'run-failed' },
      channel: { type: 'slack', url: slackUrl },
    });
    expect(slack.channel).toMatchObject({ type: 'slack', url: 'http://127.0.0.1:9/…', hasSecret: true });
    const slackSealed = (await t.parts.storage.alerts.rule(rule.id))?.secret;
    expect(slackSealed).not.toBe(sealed);
    expect(JSON.stringify(await t.parts.storage.alerts.rule(rule.id))).not.toContain('s3cr3tW3bh00kPath');
    expect(JSON.stringify(await call('GET', `/api/flows/${flowId}/alerts`))).not.toContain('s3cr3tW3bh00kPath');
    // changed without its URL, it keeps the sealed one; a new Slack rule without one is refused
    await call('PUT', path, { name: 'Slack kept', condition: { kind: 'run-failed' }, channel: { type: 'slack' } });
    expect((await t.parts.storage.alerts.rule(rule.id))?.secret).toBe(slackSealed);
    await refused({ condition: { kind: 'run-failed' }, channel: { type: 'slack' } }, 'channel.url');
    await call('DELETE', path, undefined, 204);
    await call('DELETE', path, undefined, 404);
    await call('PUT', path, { condition: { kind: 'run-failed' }, channel: hook }, 404);
    await call('GET', '/api/flows/no-such-flow/alerts', undefined, 404);
    expect((await call<{ items: unknown[] }>('GET', `/api/flows/${flowId}/alerts`)).items).toEqual([]);
  });
});

describe('a test alert sent on request', () => {
  it('goes through the rule’s channel at once, enabled or not, signed as any alert and marked a test; a failing one is tried once and says why', async () => {
    const flowId = await createFlow({ ...demo(0), name: 'Tested rules' });
    const hook = await receiver([500]);
    closers.push(() => new Promise<void>((r) => hook.server.close(() => r())));
    const rule = await addRule(flowId, {
      name: 'Page the night shift',
      enabled: false,
      condition: { kind: 'run-failed' },
      channel: { type: 'webhook', url: hook.url, secret: 'test-alert-secret' },
    });
    const path = `/api/flows/${flowId}/alerts/${rule.id}/test`;

    // the receiver answers 500 first: the test fails with the reason, after one attempt, and no retry follows
    const failed = await call<AlertDelivery>('POST', path);
    expect(failed).toMatchObject({ ruleId: rule.id, status: 'failed', attempts: 1, test: true, runId: null });
    expect(failed.lastError).toMatch(/500/);
    expect(failed.summary).toBe(
      'Tested rules: a test of the alert rule "Page the night shift". Nothing happened to a run: this says the rule\'s channel reaches you.',
    );

    const delivered = await call<AlertDelivery>('POST', path);
    expect(delivered).toMatchObject({ status: 'delivered', attempts: 1, test: true, lastError: null });
    expect(hook.got).toHaveLength(2);
    const sent = hook.got[1] as Received;
    expect(sent.headers[SIGNATURE_HEADER]).toBe(signBody('test-alert-secret', sent.body));
    expect(sent.headers[DELIVERY_HEADER]).toBe(delivered.id);
    expect(JSON.parse(sent.body)).toMatchObject({
      type: 'sluice.alert',
      test: true,
      rule: { id: rule.id, name: 'Page the night shift', kind: 'run-failed' },
      flow: { id: flowId, name: 'Tested rules' },
      run: null,
    });
    // both are listed, newest first; a run's alerts are not tests
    const listed = await deliveriesOf(flowId);
    expect(listed.map((d) => [d.id, d.status, d.test])).toEqual([
      [delivered.id, 'delivered', true],
      [failed.id, 'failed', true],
    ]);
    await new Promise((r) => setTimeout(r, 600));
    expect(hook.got).toHaveLength(2);

    await call('POST', `/api/flows/${flowId}/alerts/al_nosuchrule/test`, undefined, 404);
    await call('POST', `/api/flows/no-such-flow/alerts/${rule.id}/test`, undefined, 404);
  });
});

describe('deliveries across processes and restarts', () => {
  it('sends a pending delivery a process claimed and then died with, once its claim lapses', async () => {
    const hook = await receiver();
    closers.push(() => new Promise((r) => hook.server.close(r)));
    const flowId = await createFlow({ ...demo(0), name: 'Orphaned alert' });
    const rule = await addRule(flowId, {
      condition: { kind: 'run-failed' },
      channel: { type: 'webhook', url: hook.url, secret: 'orphan-secret-01' },
    });
    const now = Date.now();
    const rows = t.parts.storage.alerts;
    const id = await rows.addDelivery({
      ruleId: rule.id,
      flowId,
      runId: null,
      rule: 'run-failed',
      channel: 'webhook',
      dedupe: `${rule.id}:orphan`,
      payload: JSON.stringify({ type: 'sluice.alert', summary: 'left behind' }),
      status: 'pending',
      attempts: 0,
      lastError: null,
      nextAttemptAt: now,
      createdAt: now,
      deliveredAt: null,
    });
    // a process that took it and died: its claim holds for a second
    const claimed = await rows.claimDue('a-process-that-died', now, now + 1000, 100);
    expect(claimed.map((d) => d.id)).toContain(id);
    await vi.waitFor(() => expect(hook.got).toHaveLength(1), { timeout: 10_000, interval: 50 });
    expect(hook.got[0]?.headers[DELIVERY_HEADER]).toBe(id);
    await vi.waitFor(async () =>
      expect((await deliveriesOf(flowId))[0]).toMatchObject({ id, status: 'delivered', attempts: 1 }),
    );
  }, 30_000);
});

describe('an e-mail rule on a server without an SMTP server', () => {
  it('is refused unless it names its own, saying which field', async () => {
    const flowId = await createFlow({ ...demo(0), name: 'No relay' });
    const box = new SecretBox(randomBytes(32));
    const alerts = new Alerts({
      rows: t.parts.storage.alerts,
      box,
      flows: t.parts.flows,
      runs: t.parts.runs,
      deliverer: new AlertDeliverer({
        rows: t.parts.storage.alerts,
        box,
        channels: { http: t.parts.http },
        owner: 'unused',
        logger: t.parts.logger,
      }),
      logger: t.parts.logger,
    });
    const rule = { enabled: true, condition: { kind: 'run-failed' as const } };
    await expect(
      alerts.create(flowId, { ...rule, channel: { type: 'email', to: ['a@example.test'] } }),
    ).rejects.toMatchObject({
      path: 'channel.smtpUrl',
      message: expect.stringContaining('SLUICE_SMTP_URL'),
    });
    const made = await alerts.create(flowId, {
      ...rule,
      channel: { type: 'email', to: ['a@example.test'], smtpUrl: 'smtp://127.0.0.1:25' },
    });
    expect(made.channel).toMatchObject({ type: 'email', smtpUrl: 'smtp://127.0.0.1:25', hasSecret: false });
  });
});
