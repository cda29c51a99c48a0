import { randomBytes } from 'node:crypto';
import type {
  AlertChannelView,
  AlertCondition,
  AlertDelivery,
  AlertKind,
  AlertRuleInput,
  AlertRuleView,
  RunSummary,
} from '@sluice/shared';
import type { Sealer } from '../connections/keyring.js';
import { InvalidError, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AlertDeliveryListRow, AlertRows, AlertRuleRow, RunQueries } from '../storage/port.js';
import type { StoredChannel } from './channels.js';
import type { AlertDeliverer } from './deliveries.js';
import {
  type AlertMessage,
  defaultRuleName,
  finishedRunSummary,
  longRunSummary,
  runPart,
  slotSummary,
  testSummary,
} from './message.js';

/** The stored flows, by id (FlowRepository fits): an unknown id is a `NotFoundError`. */
export interface AlertFlows {
  get(id: string): Promise<{ id: string; name: string }>;
}

/** A schedule slot that did not start its run in time (from the scheduler). */
export interface MissedSlot {
  flowId: string;
  nodeId: string;
  slot: number;
  reason: string;
}

export interface AlertOptions {
  rows: AlertRows;
  box: Sealer;
  flows: AlertFlows;
  runs: Pick<RunQueries, 'get' | 'list'>;
  deliverer: AlertDeliverer;
  /** SLUICE_SMTP_URL, to refuse an e-mail rule that has nowhere to send. */
  smtpUrl?: string | undefined;
  logger: Logger;
  now?: () => number;
  /** How often to look for runs going on too long (default 5 s). */
  tickMs?: number;
  /** How long delivered and failed deliveries are kept (the retention's days); none: for ever. */
  keepMs?: number;
}

/** How long a test waits for its attempt (a channel's own time-outs are 10 s for HTTP, 15 s for SMTP). */
const TEST_WAIT_MS = 20_000;

/** How often the deliveries past `keepMs` are removed. */
const PRUNE_EVERY_MS = 3_600_000;

/** Rule ids as made here; anything else names no rule and is not looked up. */
const RULE_ID = /^al_[A-Za-z0-9_-]{1,40}$/;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Alert rules per flow, and the alerts they raise: when a run finishes (failed; succeeded with failed
 * records over a count or a share), while a run goes on (longer than a duration: a tick every few
 * seconds), and when the scheduler reports a missed slot. Each alert is stored as a pending delivery,
 * once per rule and run (or slot) whatever the number of processes that see it (a unique key), and
 * the deliverer sends it.
 */
export class Alerts {
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private prunedAt = 0;
  /** Evaluations under way (a finished run, a missed slot): `stop` waits for them. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly o: AlertOptions) {}

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  /** Starts sending deliveries and watching for runs that go on too long. */
  start(): void {
    this.o.deliverer.start();
    this.timer = setInterval(() => void this.tick(), this.o.tickMs ?? 5000).unref();
  }

  /** Stops the tick and the deliverer, once the alerts being raised are stored. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
    await this.o.deliverer.stop();
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    work.then(
      () => this.inFlight.delete(work),
      () => this.inFlight.delete(work),
    );
    return work;
  }

  // ------------------------------------------------------------------------------------------ rules

  async list(flowId: string): Promise<AlertRuleView[]> {
    await this.o.flows.get(flowId);
    return (await this.o.rows.rules(flowId)).map(ruleView);
  }

  async create(flowId: string, input: AlertRuleInput): Promise<AlertRuleView> {
    await this.o.flows.get(flowId);
    const now = this.now();
    const row: AlertRuleRow = {
      id: `al_${randomBytes(9).toString('base64url')}`,
      flowId,
      ...(await this.fields(input)),
      createdAt: now,
      updatedAt: now,
    };
    await this.o.rows.insertRule(row);
    return ruleView(row);
  }

  async update(flowId: string, ruleId: string, input: AlertRuleInput): Promise<AlertRuleView> {
    await this.o.flows.get(flowId);
    const existing = await this.find(flowId, ruleId);
    const stored = JSON.parse(existing.channel) as StoredChannel;
    const kept = stored.type === input.channel.type ? { channel: stored, secret: existing.secret } : undefined;
    const row: AlertRuleRow = { ...existing, ...(await this.fields(input, kept)), updatedAt: this.now() };
    if (!(await this.o.rows.updateRule(row))) throw noRule(flowId, ruleId);
    return ruleView(row);
  }

  async remove(flowId: string, ruleId: string): Promise<void> {
    await this.o.flows.get(flowId);
    if (!RULE_ID.test(ruleId) || !(await this.o.rows.deleteRule(flowId, ruleId))) throw noRule(flowId, ruleId);
  }

  /**
   * Sends a test alert through a rule's channel now, enabled or not: stored and listed as a delivery
   * like any other (`test`), tried once (a test that fails is not tried again), and answered once that
   * attempt is over, or after 20 s still pending (no process sends deliveries).
   */
  async test(flowId: string, ruleId: string): Promise<AlertDelivery> {
    const flow = await this.o.flows.get(flowId);
    const rule = await this.find(flowId, ruleId);
    const id = await this.raise(rule, kindOf(rule), flow.name, {
      summary: testSummary(flow.name, rule.name),
      key: `test:${this.now()}:${randomBytes(6).toString('base64url')}`,
      test: true,
    });
    const deadline = Date.now() + TEST_WAIT_MS;
    for (;;) {
      const delivery =
        id === undefined ? undefined : (await this.deliveries({ flowId, limit: 100 })).find((d) => d.id === id);
      if (!delivery) throw new NotFoundError(`the test of alert rule "${ruleId}" was not stored`);
      if (delivery.status !== 'pending' || delivery.attempts > 0 || Date.now() >= deadline) return delivery;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async deliveries(q: { flowId?: string; limit: number }): Promise<AlertDelivery[]> {
    return (await this.o.rows.deliveries(q)).map((d) => this.deliveryView(d));
  }

  private deliveryView(d: AlertDeliveryListRow): AlertDelivery {
    const message = JSON.parse(d.payload) as AlertMessage;
    return {
      id: d.id,
      ruleId: d.ruleId,
      flowId: d.flowId,
      flowName: d.flowName,
      runId: d.runId,
      rule: d.rule as AlertKind,
      ruleName: d.ruleName,
      channel: d.channel as AlertDelivery['channel'],
      status: d.status,
      attempts: d.attempts,
      lastError: d.lastError,
      summary: message.summary,
      test: message.test === true,
      createdAt: iso(d.createdAt),
      deliveredAt: d.deliveredAt === null ? null : iso(d.deliveredAt),
      nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
    };
  }

  private async find(flowId: string, ruleId: string): Promise<AlertRuleRow> {
    const row = RULE_ID.test(ruleId) ? await this.o.rows.rule(ruleId) : undefined;
    if (!row || row.flowId !== flowId) throw noRule(flowId, ruleId);
    return row;
  }

  /**
   * The stored fields of a rule as given. `kept`: the rule's stored channel and sealed secret when its
   * channel type stays (kept when none is given).
   */
  private async fields(input: AlertRuleInput, kept?: { channel: StoredChannel; secret: string | null }) {
    const c = input.channel;
    let channel: StoredChannel;
    let secret: string | null;
    if (c.type === 'webhook') {
      secret = c.secret !== undefined ? await this.o.box.seal(c.secret) : (kept?.secret ?? null);
      if (!secret) {
        throw new InvalidError('bad_request', 'channel.secret: required for a webhook channel (it signs each alert)', {
          path: 'channel.secret',
        });
      }
      channel = { type: 'webhook', url: c.url };
    } else if (c.type === 'slack') {
      // the URL is the credential (whoever has it may post): sealed as the secret, and only its scheme
      // and host kept in the clear, to show
      const keptUrl = kept?.channel.type === 'slack' ? kept.channel.url : undefined;
      secret =
        c.url !== undefined ? await this.o.box.seal(c.url) : keptUrl !== undefined ? (kept?.secret ?? null) : null;
      const shown = c.url !== undefined ? hiddenPath(c.url) : keptUrl;
      if (!secret || shown === undefined) {
        throw new InvalidError('bad_request', 'channel.url: required for a Slack channel', { path: 'channel.url' });
      }
      channel = { type: 'slack', url: shown };
    } else {
      secret = c.secret !== undefined ? await this.o.box.seal(c.secret) : (kept?.secret ?? null);
      if (!c.smtpUrl && !this.o.smtpUrl) {
        throw new InvalidError(
          'bad_request',
          'channel.smtpUrl: required, since the server has no SMTP server set (SLUICE_SMTP_URL)',
          { path: 'channel.smtpUrl' },
        );
      }
      if (!c.smtpUrl && (c.username || c.secret)) {
        throw new InvalidError('bad_request', 'channel.smtpUrl: required with a username or secret', {
          path: 'channel.smtpUrl',
        });
      }
      channel = {
        type: 'email',
        to: c.to,
        ...(c.smtpUrl ? { smtpUrl: c.smtpUrl } : {}),
        ...(c.username ? { username: c.username } : {}),
      };
    }
    return {
      name: input.name ?? defaultRuleName(input.condition),
      enabled: input.enabled,
      condition: JSON.stringify(input.condition),
      channel: JSON.stringify(channel),
      secret,
    };
  }

  // ------------------------------------------------------------------------------------------ raising

  /**
   * A run finished (stored final): raises the alerts its flow's rules call for. With its flow given,
   * a flow without rules costs no read of the run.
   */
  runFinished(runId: string, flowId?: string | null): Promise<void> {
    return this.track(this.finished(runId, flowId));
  }

  private async finished(runId: string, flowId?: string | null): Promise<void> {
    if (flowId === null) return;
    if (flowId !== undefined && !(await this.enabledRules(flowId)).length) return;
    const run = await this.o.runs.get(runId);
    if (!run.flowId || run.trigger === 'test') return;
    for (const rule of await this.enabledRules(run.flowId)) {
      const condition = JSON.parse(rule.condition) as AlertCondition;
      const summary = finishedRunSummary(condition, run);
      if (summary) await this.raise(rule, condition.kind, run.flowName, { run, summary, key: `run:${run.id}` });
    }
  }

  /** A schedule slot did not start its run within a minute: raises the flow's slot-missed alerts. */
  slotMissed(m: MissedSlot): Promise<void> {
    return this.track(this.missed(m));
  }

  private async missed(m: MissedSlot): Promise<void> {
    const rules = (await this.enabledRules(m.flowId)).filter((r) => kindOf(r) === 'slot-missed');
    if (!rules.length) return;
    const flow = await this.o.flows.get(m.flowId);
    for (const rule of rules) {
      await this.raise(rule, 'slot-missed', flow.name, {
        slot: { nodeId: m.nodeId, at: iso(m.slot), reason: m.reason },
        summary: slotSummary(flow.name, m.nodeId, m.slot, m.reason),
        key: `slot:${m.nodeId}:${m.slot}`,
      });
    }
  }

  /** Raises the alerts of runs going on longer than their flows' rules allow. Ticks never overlap. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const now = this.now();
      if (this.o.keepMs !== undefined && now - this.prunedAt >= PRUNE_EVERY_MS) {
        this.prunedAt = now;
        await this.o.rows.pruneDeliveries(now - this.o.keepMs);
      }
      for (const rule of (await this.o.rows.rules()).filter((r) => r.enabled && kindOf(r) === 'run-longer')) {
        const { seconds } = JSON.parse(rule.condition) as Extract<AlertCondition, { kind: 'run-longer' }>;
        for (const status of ['running', 'paused'] as const) {
          const { items } = await this.o.runs.list({ flowId: rule.flowId, status, limit: 100 });
          for (const run of items) {
            if (run.trigger === 'test' || !run.startedAt || now - Date.parse(run.startedAt) < seconds * 1000) continue;
            await this.raise(rule, 'run-longer', run.flowName, {
              run,
              summary: longRunSummary(seconds, run, now),
              key: `run:${run.id}`,
            });
          }
        }
      }
    } catch (err) {
      this.o.logger.error({ err }, 'looking for runs that go on too long failed; the next tick tries again');
    } finally {
      this.ticking = false;
    }
  }

  private async enabledRules(flowId: string): Promise<AlertRuleRow[]> {
    return (await this.o.rows.rules(flowId)).filter((r) => r.enabled);
  }

  private async raise(
    rule: AlertRuleRow,
    kind: AlertKind,
    flowName: string,
    what: { run?: RunSummary; slot?: AlertMessage['slot']; summary: string; key: string; test?: true },
  ): Promise<string | undefined> {
    const now = this.now();
    const message: AlertMessage = {
      type: 'sluice.alert',
      rule: { id: rule.id, name: rule.name, kind },
      flow: { id: rule.flowId, name: flowName },
      run: what.run ? runPart(what.run, now) : null,
      slot: what.slot ?? null,
      summary: what.summary,
      at: iso(now),
      ...(what.test ? { test: true as const } : {}),
    };
    const id = await this.o.rows.addDelivery({
      ruleId: rule.id,
      flowId: rule.flowId,
      runId: what.run?.id ?? null,
      rule: kind,
      channel: (JSON.parse(rule.channel) as StoredChannel).type,
      dedupe: `${rule.id}:${what.key}`,
      payload: JSON.stringify(message),
      status: 'pending',
      attempts: 0,
      lastError: null,
      nextAttemptAt: now,
      createdAt: now,
      deliveredAt: null,
    });
    if (id === undefined) return undefined; // raised already (by this process, or another)
    this.o.logger.info({ deliveryId: id, flowId: rule.flowId, ruleId: rule.id, kind }, `alert: ${what.summary}`);
    this.o.deliverer.wake();
    return id;
  }
}

/** A Slack webhook's URL as shown: its scheme and host, the path (the credential) hidden. */
function hiddenPath(url: string): string {
  return `${new URL(url).origin}/…`;
}

const kindOf = (r: AlertRuleRow) => (JSON.parse(r.condition) as AlertCondition).kind;

const noRule = (flowId: string, ruleId: string) =>
  new NotFoundError(`alert rule "${ruleId}" of flow "${flowId}" does not exist`);

function ruleView(r: AlertRuleRow): AlertRuleView {
  const c = JSON.parse(r.channel) as StoredChannel;
  const channel: AlertChannelView = {
    type: c.type,
    url: c.type === 'email' ? null : c.url,
    to: c.type === 'email' ? c.to : null,
    smtpUrl: c.type === 'email' ? (c.smtpUrl ?? null) : null,
    username: c.type === 'email' ? (c.username ?? null) : null,
    hasSecret: r.secret !== null,
  };
  return {
    id: r.id,
    flowId: r.flowId,
    name: r.name,
    enabled: r.enabled,
    condition: JSON.parse(r.condition) as AlertCondition,
    channel,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}
