import type Database from 'better-sqlite3';
import type {
  AlertAttempt,
  AlertDeliveryListRow,
  AlertDeliveryRow,
  AlertDeliveryStatusRow,
  AlertRows,
  AlertRuleRow,
} from '../port.js';
import type { Db } from './open.js';

interface RuleRow {
  id: string;
  flow_id: string;
  name: string;
  enabled: number;
  condition: string;
  channel: string;
  secret: string | null;
  created_at: number;
  updated_at: number;
}

interface DeliveryRow {
  id: number;
  rule_id: string;
  flow_id: string;
  run_id: string | null;
  rule: string;
  channel: string;
  dedupe: string;
  payload: string;
  status: AlertDeliveryStatusRow;
  attempts: number;
  last_error: string | null;
  next_attempt_at: number;
  created_at: number;
  delivered_at: number | null;
  flow_name?: string;
  rule_name?: string | null;
}

const RULE_COLUMNS = 'id, flow_id, name, enabled, condition, channel, secret, created_at, updated_at';
const DELIVERY_COLUMNS =
  'd.id, d.rule_id, d.flow_id, d.run_id, d.rule, d.channel, d.dedupe, d.payload, d.status, d.attempts, d.last_error, d.next_attempt_at, d.created_at, d.delivered_at';

const rule = (r: RuleRow): AlertRuleRow => ({
  id: r.id,
  flowId: r.flow_id,
  name: r.name,
  enabled: r.enabled === 1,
  condition: r.condition,
  channel: r.channel,
  secret: r.secret,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const delivery = (r: DeliveryRow): AlertDeliveryRow => ({
  id: String(r.id),
  ruleId: r.rule_id,
  flowId: r.flow_id,
  runId: r.run_id,
  rule: r.rule,
  channel: r.channel,
  dedupe: r.dedupe,
  payload: r.payload,
  status: r.status,
  attempts: r.attempts,
  lastError: r.last_error,
  nextAttemptAt: r.next_attempt_at,
  createdAt: r.created_at,
  deliveredAt: r.delivered_at,
});

/** Alert rules and deliveries in `alert_rules` and `alert_deliveries`. */
export class SqliteAlerts implements AlertRows {
  private readonly c: Database.Database;

  constructor(db: Db) {
    this.c = db.$client;
  }

  async rules(flowId?: string): Promise<AlertRuleRow[]> {
    const rows = (
      flowId === undefined
        ? this.c.prepare(`SELECT ${RULE_COLUMNS} FROM alert_rules ORDER BY created_at, id`).all()
        : this.c
            .prepare(`SELECT ${RULE_COLUMNS} FROM alert_rules WHERE flow_id = ? ORDER BY created_at, id`)
            .all(flowId)
    ) as RuleRow[];
    return rows.map(rule);
  }

  async rule(id: string): Promise<AlertRuleRow | undefined> {
    const r = this.c.prepare(`SELECT ${RULE_COLUMNS} FROM alert_rules WHERE id = ?`).get(id) as RuleRow | undefined;
    return r ? rule(r) : undefined;
  }

  async insertRule(r: AlertRuleRow): Promise<void> {
    this.c
      .prepare(`INSERT INTO alert_rules (${RULE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(r.id, r.flowId, r.name, r.enabled ? 1 : 0, r.condition, r.channel, r.secret, r.createdAt, r.updatedAt);
  }

  async updateRule(r: AlertRuleRow): Promise<boolean> {
    const result = this.c
      .prepare(
        'UPDATE alert_rules SET name = ?, enabled = ?, condition = ?, channel = ?, secret = ?, updated_at = ? WHERE id = ? AND flow_id = ?',
      )
      .run(r.name, r.enabled ? 1 : 0, r.condition, r.channel, r.secret, r.updatedAt, r.id, r.flowId);
    return result.changes > 0;
  }

  async deleteRule(flowId: string, id: string): Promise<boolean> {
    return this.c.prepare('DELETE FROM alert_rules WHERE id = ? AND flow_id = ?').run(id, flowId).changes > 0;
  }

  async addDelivery(d: Omit<AlertDeliveryRow, 'id'>): Promise<string | undefined> {
    const row = this.c
      .prepare(
        `INSERT INTO alert_deliveries (rule_id, flow_id, run_id, rule, channel, dedupe, payload, status, attempts,
           last_error, next_attempt_at, created_at, delivered_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (dedupe) DO NOTHING RETURNING id`,
      )
      .get(
        d.ruleId,
        d.flowId,
        d.runId,
        d.rule,
        d.channel,
        d.dedupe,
        d.payload,
        d.status,
        d.attempts,
        d.lastError,
        d.nextAttemptAt,
        d.createdAt,
        d.deliveredAt,
      ) as { id: number } | undefined;
    return row ? String(row.id) : undefined;
  }

  async deliveries(q: { flowId?: string; limit: number }): Promise<AlertDeliveryListRow[]> {
    const from = `SELECT ${DELIVERY_COLUMNS}, f.name AS flow_name, r.name AS rule_name FROM alert_deliveries d
       JOIN flows f ON f.id = d.flow_id LEFT JOIN alert_rules r ON r.id = d.rule_id`;
    const rows = (
      q.flowId === undefined
        ? this.c.prepare(`${from} ORDER BY d.id DESC LIMIT ?`).all(q.limit)
        : this.c.prepare(`${from} WHERE d.flow_id = ? ORDER BY d.id DESC LIMIT ?`).all(q.flowId, q.limit)
    ) as DeliveryRow[];
    return rows.map((r) => ({ ...delivery(r), flowName: r.flow_name ?? '', ruleName: r.rule_name ?? r.rule }));
  }

  async claimDue(owner: string, now: number, until: number, limit: number): Promise<AlertDeliveryRow[]> {
    const due = this.c
      .prepare(
        `SELECT ${DELIVERY_COLUMNS} FROM alert_deliveries d
         WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND (d.claimed_until IS NULL OR d.claimed_until < ?)
         ORDER BY d.next_attempt_at, d.id LIMIT ?`,
      )
      .all(now, now, limit) as DeliveryRow[];
    const claim = this.c.prepare(
      `UPDATE alert_deliveries SET claimed_by = ?, claimed_until = ?
       WHERE id = ? AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < ?)`,
    );
    return due.filter((r) => claim.run(owner, until, r.id, now).changes > 0).map(delivery);
  }

  async settle(id: string, owner: string, a: AlertAttempt): Promise<boolean> {
    const result = this.c
      .prepare(
        `UPDATE alert_deliveries SET status = ?, attempts = ?, last_error = ?, next_attempt_at = ?, delivered_at = ?,
           claimed_by = NULL, claimed_until = NULL
         WHERE id = ? AND claimed_by = ?`,
      )
      .run(a.status, a.attempts, a.lastError, a.nextAttemptAt, a.deliveredAt, Number(id), owner);
    return result.changes > 0;
  }

  async pruneDeliveries(before: number): Promise<number> {
    return this.c.prepare("DELETE FROM alert_deliveries WHERE created_at < ? AND status <> 'pending'").run(before)
      .changes;
  }
}
