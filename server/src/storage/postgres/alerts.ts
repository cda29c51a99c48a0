import { notFound } from '../../errors.js';
import type {
  AlertAttempt,
  AlertDeliveryListRow,
  AlertDeliveryRow,
  AlertDeliveryStatusRow,
  AlertRows,
  AlertRuleRow,
} from '../port.js';
import type { PgDb } from './db.js';
import { FOREIGN_KEY_VIOLATION, pgErrorCode } from './errors.js';

interface RuleRow {
  id: string;
  flow_id: string;
  name: string;
  enabled: boolean;
  condition: string;
  channel: string;
  secret: string | null;
  created_at: string | number;
  updated_at: string | number;
}

interface DeliveryRow {
  id: string | number;
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
  next_attempt_at: string | number;
  created_at: string | number;
  delivered_at: string | number | null;
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
  enabled: r.enabled,
  condition: r.condition,
  channel: r.channel,
  secret: r.secret,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
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
  nextAttemptAt: Number(r.next_attempt_at),
  createdAt: Number(r.created_at),
  deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
});

/** A delivery id as the table keeps it; anything else names none. */
const deliveryId = (id: string) => (/^[1-9]\d{0,17}$/.test(id) ? id : '0');

/**
 * Alert rules and deliveries in PostgreSQL. Deliveries are claimed by one statement over a
 * `FOR UPDATE SKIP LOCKED` subselect, so two processes never both take one.
 */
export class PgAlerts implements AlertRows {
  private readonly pool: PgDb['$client'];

  constructor(db: PgDb) {
    this.pool = db.$client;
  }

  async rules(flowId?: string): Promise<AlertRuleRow[]> {
    const { rows } =
      flowId === undefined
        ? await this.pool.query<RuleRow>(`SELECT ${RULE_COLUMNS} FROM alert_rules ORDER BY created_at, id`)
        : await this.pool.query<RuleRow>(
            `SELECT ${RULE_COLUMNS} FROM alert_rules WHERE flow_id = $1 ORDER BY created_at, id`,
            [flowId],
          );
    return rows.map(rule);
  }

  async rule(id: string): Promise<AlertRuleRow | undefined> {
    const { rows } = await this.pool.query<RuleRow>(`SELECT ${RULE_COLUMNS} FROM alert_rules WHERE id = $1`, [id]);
    return rows[0] ? rule(rows[0]) : undefined;
  }

  async insertRule(r: AlertRuleRow): Promise<void> {
    try {
      await this.pool.query(`INSERT INTO alert_rules (${RULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
        r.id,
        r.flowId,
        r.name,
        r.enabled,
        r.condition,
        r.channel,
        r.secret,
        r.createdAt,
        r.updatedAt,
      ]);
    } catch (err) {
      if (pgErrorCode(err) === FOREIGN_KEY_VIOLATION) throw notFound('flow', r.flowId);
      throw err;
    }
  }

  async updateRule(r: AlertRuleRow): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE alert_rules SET name = $1, enabled = $2, condition = $3, channel = $4, secret = $5, updated_at = $6
       WHERE id = $7 AND flow_id = $8`,
      [r.name, r.enabled, r.condition, r.channel, r.secret, r.updatedAt, r.id, r.flowId],
    );
    return (rowCount ?? 0) > 0;
  }

  async deleteRule(flowId: string, id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM alert_rules WHERE id = $1 AND flow_id = $2', [id, flowId]);
    return (rowCount ?? 0) > 0;
  }

  async addDelivery(d: Omit<AlertDeliveryRow, 'id'>): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO alert_deliveries (rule_id, flow_id, run_id, rule, channel, dedupe, payload, status, attempts,
         last_error, next_attempt_at, created_at, delivered_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT (dedupe) DO NOTHING RETURNING id`,
      [
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
      ],
    );
    return rows[0] ? String(rows[0].id) : undefined;
  }

  async deliveries(q: { flowId?: string; limit: number }): Promise<AlertDeliveryListRow[]> {
    const from = `SELECT ${DELIVERY_COLUMNS}, f.name AS flow_name, r.name AS rule_name FROM alert_deliveries d
       JOIN flows f ON f.id = d.flow_id LEFT JOIN alert_rules r ON r.id = d.rule_id`;
    const { rows } =
      q.flowId === undefined
        ? await this.pool.query<DeliveryRow>(`${from} ORDER BY d.id DESC LIMIT $1`, [q.limit])
        : await this.pool.query<DeliveryRow>(`${from} WHERE d.flow_id = $1 ORDER BY d.id DESC LIMIT $2`, [
            q.flowId,
            q.limit,
          ]);
    return rows.map((r) => ({ ...delivery(r), flowName: r.flow_name ?? '', ruleName: r.rule_name ?? r.rule }));
  }

  async claimDue(owner: string, now: number, until: number, limit: number): Promise<AlertDeliveryRow[]> {
    const { rows } = await this.pool.query<DeliveryRow>(
      `UPDATE alert_deliveries d SET claimed_by = $1, claimed_until = $2
       WHERE d.id IN (SELECT id FROM alert_deliveries
                        WHERE status = 'pending' AND next_attempt_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3)
                        ORDER BY next_attempt_at, id LIMIT $4
                      FOR UPDATE SKIP LOCKED)
       RETURNING ${DELIVERY_COLUMNS}`,
      [owner, until, now, limit],
    );
    return rows.map(delivery).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || Number(a.id) - Number(b.id));
  }

  async settle(id: string, owner: string, a: AlertAttempt): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE alert_deliveries SET status = $1, attempts = $2, last_error = $3, next_attempt_at = $4, delivered_at = $5,
         claimed_by = NULL, claimed_until = NULL
       WHERE id = $6 AND claimed_by = $7`,
      [a.status, a.attempts, a.lastError, a.nextAttemptAt, a.deliveredAt, deliveryId(id), owner],
    );
    return (rowCount ?? 0) > 0;
  }

  async pruneDeliveries(before: number): Promise<number> {
    const { rowCount } = await this.pool.query(
      "DELETE FROM alert_deliveries WHERE created_at < $1 AND status <> 'pending'",
      [before],
    );
    return rowCount ?? 0;
  }
}
