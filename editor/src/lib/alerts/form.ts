import type { AlertKind, AlertRuleInput, AlertRuleView } from '@sluice/shared';

/** An alert rule as the form holds it: every field as typed. */
export interface AlertFormValues {
  name: string;
  enabled: boolean;
  kind: AlertKind;
  minFailed: string;
  /** Percent, as typed ("5" is 5 %). */
  minPercent: string;
  minutes: string;
  channel: 'webhook' | 'slack' | 'email';
  url: string;
  secret: string;
  to: string;
  smtpUrl: string;
  username: string;
}

export type AlertFieldKey = 'minFailed' | 'minPercent' | 'minutes' | 'url' | 'secret' | 'to' | 'smtpUrl';

export const KIND_LABELS: Record<AlertKind, string> = {
  'run-failed': 'A run failed',
  'failed-records': 'A run succeeded with failed records',
  'run-longer': 'A run goes on too long',
  'slot-missed': 'A schedule slot was missed',
};

export const CHANNEL_LABELS: Record<AlertFormValues['channel'], string> = {
  webhook: 'Webhook (signed JSON)',
  slack: 'Slack-compatible webhook',
  email: 'E-mail (SMTP)',
};

export const EMPTY_ALERT_FORM: AlertFormValues = {
  name: '',
  enabled: true,
  kind: 'failed-records',
  minFailed: '',
  minPercent: '5',
  minutes: '30',
  channel: 'webhook',
  url: '',
  secret: '',
  to: '',
  smtpUrl: '',
  username: '',
};

/**
 * The form filled from a stored rule. Its secret is never sent back: left empty, kept unless typed; so
 * is a Slack channel's URL, which is its secret (the rule shows only its host).
 */
export function formFromRule(rule: AlertRuleView): AlertFormValues {
  const c = rule.condition;
  return {
    ...EMPTY_ALERT_FORM,
    name: rule.name,
    enabled: rule.enabled,
    kind: c.kind,
    minFailed: c.kind === 'failed-records' && c.minFailed !== undefined ? String(c.minFailed) : '',
    minPercent: c.kind === 'failed-records' ? (c.minShare !== undefined ? String(round(c.minShare * 100)) : '') : '5',
    minutes: c.kind === 'run-longer' ? String(round(c.seconds / 60)) : '30',
    channel: rule.channel.type,
    url: rule.channel.type === 'slack' ? '' : (rule.channel.url ?? ''),
    to: (rule.channel.to ?? []).join(', '),
    smtpUrl: rule.channel.smtpUrl ?? '',
    username: rule.channel.username ?? '',
  };
}

const round = (n: number) => Math.round(n * 1000) / 1000;

export type BuiltRule =
  | { ok: true; body: AlertRuleInput }
  | { ok: false; errors: Partial<Record<AlertFieldKey, string>> };

/**
 * The API body of the form, or what is wrong with each field. `original`: the rule being edited (a
 * webhook's secret may be left empty to keep the stored one, if the channel type stays).
 */
export function buildRuleBody(v: AlertFormValues, original?: AlertRuleView | null): BuiltRule {
  const errors: Partial<Record<AlertFieldKey, string>> = {};
  let condition: AlertRuleInput['condition'];
  if (v.kind === 'failed-records') {
    const minFailed = v.minFailed.trim() ? Number(v.minFailed) : undefined;
    const percent = v.minPercent.trim() ? Number(v.minPercent) : undefined;
    if (minFailed !== undefined && !(Number.isInteger(minFailed) && minFailed >= 1))
      errors.minFailed = 'a whole number, 1 or more';
    if (percent !== undefined && !(percent > 0 && percent <= 100))
      errors.minPercent = 'a percentage above 0, at most 100';
    if (minFailed === undefined && percent === undefined) errors.minFailed = 'give a count, a percentage or both';
    condition = {
      kind: 'failed-records',
      ...(minFailed !== undefined ? { minFailed } : {}),
      ...(percent !== undefined ? { minShare: percent / 100 } : {}),
    };
  } else if (v.kind === 'run-longer') {
    const minutes = Number(v.minutes);
    if (!v.minutes.trim() || !(minutes > 0)) errors.minutes = 'minutes, above 0';
    condition = { kind: 'run-longer', seconds: Math.max(1, Math.round(minutes * 60)) };
  } else condition = { kind: v.kind };

  const url = v.url.trim();
  const secret = v.secret;
  let channel: AlertRuleInput['channel'];
  if (v.channel === 'email') {
    const to = v.to
      .split(/[,;\s]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    if (!to.length) errors.to = 'one address or more, separated by commas';
    else if (to.some((a) => !/^[^\s@]+@[^\s@]+$/.test(a))) errors.to = 'not an e-mail address';
    const smtpUrl = v.smtpUrl.trim();
    if (smtpUrl && !/^smtps?:\/\/[^\s@/]+(:\d+)?\/?$/i.test(smtpUrl))
      errors.smtpUrl = 'smtp://host:port or smtps://host:port';
    channel = {
      type: 'email',
      to,
      ...(smtpUrl ? { smtpUrl } : {}),
      ...(smtpUrl && v.username.trim() ? { username: v.username.trim() } : {}),
      ...(smtpUrl && secret ? { secret } : {}),
    };
  } else if (v.channel === 'slack') {
    // its URL is a secret: left empty on a Slack rule being edited, the stored one is kept
    const keeps = original?.channel.type === 'slack' && original.channel.hasSecret;
    if (!url && !keeps) errors.url = 'required: the webhook URL Slack gave you';
    else if (url && !/^https?:\/\/\S+$/i.test(url)) errors.url = 'an http(s) URL';
    channel = { type: 'slack', ...(url ? { url } : {}) };
  } else {
    if (!/^https?:\/\/\S+$/i.test(url)) errors.url = 'an http(s) URL';
    const keeps = original?.channel.type === 'webhook' && original.channel.hasSecret;
    if (!secret && !keeps) errors.secret = 'required: it signs each alert';
    else if (secret && secret.length < 8) errors.secret = 'at least 8 characters';
    channel = { type: 'webhook', url, ...(secret ? { secret } : {}) };
  }
  if (Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true,
    body: { ...(v.name.trim() ? { name: v.name.trim() } : {}), enabled: v.enabled, condition, channel },
  };
}

/** A rule's condition in words. */
export function conditionText(rule: Pick<AlertRuleView, 'condition'>): string {
  const c = rule.condition;
  switch (c.kind) {
    case 'run-failed':
      return 'when a run fails';
    case 'failed-records': {
      const parts = [
        ...(c.minFailed !== undefined ? [`${c.minFailed.toLocaleString('en-US')} or more`] : []),
        ...(c.minShare !== undefined ? [`${round(c.minShare * 100)} % or more`] : []),
      ];
      return `when a run succeeds with ${parts.join(', or ')} of its records failed`;
    }
    case 'run-longer':
      return `when a run goes on longer than ${c.seconds % 60 === 0 ? `${c.seconds / 60} min` : `${c.seconds} s`}`;
    case 'slot-missed':
      return 'when a schedule slot does not start its run within a minute';
  }
}

/** Where a rule sends, in words. */
export function channelText(rule: Pick<AlertRuleView, 'channel'>): string {
  const c = rule.channel;
  if (c.type === 'email') return `e-mail to ${(c.to ?? []).join(', ')}`;
  return `${c.type === 'slack' ? 'Slack' : 'webhook'} ${c.url ?? ''}`;
}
