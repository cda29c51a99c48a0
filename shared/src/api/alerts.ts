/**
 * Alerts: per flow, rules that say when to tell someone (a run failed, a run succeeded with too many
 * failed records, a run is taking too long, a schedule slot was missed) and where (a signed JSON
 * webhook, a Slack-compatible incoming webhook, e-mail over SMTP); and the deliveries they made, each
 * with its attempts and result. Secrets (a webhook's HMAC secret, an SMTP password) are taken, never
 * returned.
 */
import { z } from 'zod';

const instant = z.string().describe('An ISO 8601 instant, e.g. 2026-11-28T00:00:00.000Z.');

export const ALERT_KINDS = ['run-failed', 'failed-records', 'run-longer', 'slot-missed'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const ALERT_CHANNELS = ['webhook', 'slack', 'email'] as const;
export type AlertChannelType = (typeof ALERT_CHANNELS)[number];

export const ALERT_DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type AlertDeliveryStatus = (typeof ALERT_DELIVERY_STATUSES)[number];

/** When a rule fires. */
export const alertConditionSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('run-failed') }).describe('A run of the flow ended failed.'),
    z
      .strictObject({
        kind: z.literal('failed-records'),
        minFailed: z
          .number()
          .int()
          .min(1)
          .max(1_000_000_000)
          .optional()
          .describe('Fires when at least this many records failed.'),
        minShare: z
          .number()
          .gt(0)
          .max(1)
          .optional()
          .describe('Fires when at least this share of the records read failed (0.05 = 5 %).'),
      })
      .refine((c) => c.minFailed !== undefined || c.minShare !== undefined, {
        message: 'give minFailed, minShare or both',
        path: ['minFailed'],
      })
      .describe('A run ended succeeded with failed records over a count or a share.'),
    z
      .strictObject({
        kind: z.literal('run-longer'),
        seconds: z.number().int().min(1).max(31_536_000).describe('Fires once a run has gone on this long.'),
      })
      .describe('A run is still going after a duration.'),
    z
      .strictObject({ kind: z.literal('slot-missed') })
      .describe('A schedule slot did not start its run within a minute of its time.'),
  ])
  .describe('When the rule fires.');
export type AlertCondition = z.output<typeof alertConditionSchema>;

const httpUrl = z
  .string()
  .max(2000)
  .url('must be an absolute http(s) URL')
  .regex(/^https?:\/\//i, 'must be an absolute http(s) URL');

const emailAddress = z.string().max(320).email('must be an e-mail address');

/** Where a rule sends its alerts, as given (secrets included). */
export const alertChannelInputSchema = z
  .discriminatedUnion('type', [
    z
      .strictObject({
        type: z.literal('webhook'),
        url: httpUrl,
        secret: z
          .string()
          .min(8)
          .max(500)
          .describe(
            'Signs each body: x-sluice-signature: sha256=<hex HMAC-SHA256>. Stored encrypted; never returned. Required when the rule is made.',
          )
          .optional(),
      })
      .describe('A JSON POST, HMAC-signed as Sluice signs its webhooks.'),
    z
      .strictObject({
        type: z.literal('slack'),
        url: httpUrl
          .optional()
          .describe(
            "The incoming webhook's URL. It is the credential (whoever has it can post), so it is stored encrypted and returned only as its address with the path hidden. Required when the rule is made; left out, the stored one is kept.",
          ),
      })
      .describe('A Slack-compatible incoming webhook: a POST of { "text": … }.'),
    z
      .strictObject({
        type: z.literal('email'),
        to: z.array(emailAddress).min(1).max(20),
        smtpUrl: z
          .string()
          .max(2000)
          .regex(/^smtps?:\/\/[^\s@/]+(:\d+)?\/?$/i, 'must be smtp://host:port or smtps://host:port (no user in it)')
          .optional()
          .describe('The SMTP server; none: SLUICE_SMTP_URL.'),
        username: z.string().min(1).max(200).optional().describe('SMTP user, with smtpUrl.'),
        secret: z
          .string()
          .min(1)
          .max(500)
          .optional()
          .describe('SMTP password, with smtpUrl. Stored encrypted; never returned.'),
      })
      .describe('An e-mail over SMTP.'),
  ])
  .describe('Where the rule sends its alerts.');
export type AlertChannelInput = z.output<typeof alertChannelInputSchema>;

export const alertRuleInputSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional().describe('A name people read; none: one made from the rule.'),
  enabled: z.boolean().default(true),
  condition: alertConditionSchema,
  channel: alertChannelInputSchema,
});
export type AlertRuleInput = z.output<typeof alertRuleInputSchema>;

export const alertChannelViewSchema = z.strictObject({
  type: z.enum(ALERT_CHANNELS),
  url: z
    .string()
    .nullable()
    .describe(
      'webhook: where it posts; slack: the scheme and host it posts to, the rest hidden (e.g. https://hooks.slack.com/…).',
    ),
  to: z.array(z.string()).nullable().describe('email: the recipients.'),
  smtpUrl: z.string().nullable(),
  username: z.string().nullable(),
  hasSecret: z
    .boolean()
    .describe('Whether a secret (HMAC secret, SMTP password, Slack webhook URL) is stored; it is never returned.'),
});
export type AlertChannelView = z.output<typeof alertChannelViewSchema>;

export const alertRuleViewSchema = z.strictObject({
  id: z.string(),
  flowId: z.string(),
  name: z.string(),
  enabled: z.boolean(),
  condition: alertConditionSchema,
  channel: alertChannelViewSchema,
  createdAt: instant,
  updatedAt: instant,
});
export type AlertRuleView = z.output<typeof alertRuleViewSchema>;

export const alertDeliverySchema = z.strictObject({
  id: z.string(),
  ruleId: z.string(),
  flowId: z.string(),
  flowName: z.string(),
  runId: z.string().nullable().describe('The run it is about; null for a missed schedule slot.'),
  rule: z.enum(ALERT_KINDS).describe('The kind of rule that fired.'),
  ruleName: z.string(),
  channel: z.enum(ALERT_CHANNELS),
  status: z.enum(ALERT_DELIVERY_STATUSES),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  summary: z.string().describe('The alert in one line.'),
  test: z.boolean().describe('A test sent on request (POST …/alerts/{ruleId}/test), not raised by a run or a slot.'),
  createdAt: instant,
  deliveredAt: instant.nullable(),
  nextAttemptAt: instant.nullable().describe('Pending: when the next attempt is due.'),
});
export type AlertDelivery = z.output<typeof alertDeliverySchema>;
