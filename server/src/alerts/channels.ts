import type { HttpClient } from '@sluice/engine';
import nodemailer from 'nodemailer';
import { signBody } from '../webhooks/webhooks.js';
import { type AlertMessage, alertText } from './message.js';

/** A channel's settings as stored (its secret apart, sealed). */
export type StoredChannel =
  | { type: 'webhook'; url: string }
  /** url: its scheme and host only; the whole URL (the credential) is the rule's sealed secret. */
  | { type: 'slack'; url: string }
  | { type: 'email'; to: string[]; smtpUrl?: string; username?: string };

export const DELIVERY_HEADER = 'x-sluice-delivery';
export const EVENT_HEADER = 'x-sluice-event';
const HTTP_TIMEOUT_MS = 10_000;
const SMTP_TIMEOUT_MS = 15_000;
/** How much of an answer's body an error keeps. */
const BODY_IN_ERROR = 200;

/** What sending needs besides the channel: the HTTP client, and the SMTP server and sender from the environment. */
export interface ChannelContext {
  http: HttpClient;
  /** SLUICE_SMTP_URL: smtp(s)://[user:password@]host:port */
  smtpUrl?: string | undefined;
  /** SLUICE_SMTP_FROM; default sluice@localhost */
  smtpFrom?: string | undefined;
}

/** Sends one alert through a channel; resolves when the other side took it, throws with the reason otherwise. */
export async function sendAlert(
  ctx: ChannelContext,
  channel: StoredChannel,
  secret: string | null,
  deliveryId: string,
  message: AlertMessage,
): Promise<void> {
  if (channel.type === 'email') return sendEmail(ctx, channel, secret, message);
  const body =
    channel.type === 'webhook'
      ? JSON.stringify({ ...message, deliveryId })
      : JSON.stringify({ text: `*${message.summary}*\n${alertText(message).split('\n').slice(2).join('\n')}` });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'Sluice alerts',
    [DELIVERY_HEADER]: deliveryId,
    [EVENT_HEADER]: 'alert',
  };
  if (channel.type === 'webhook') {
    if (!secret) throw new Error('the webhook channel has no secret to sign with');
    headers['x-sluice-signature'] = signBody(secret, body);
  }
  // a Slack channel's URL is its secret (the stored one shows only its host)
  const url = channel.type === 'slack' ? secret : channel.url;
  if (!url) throw new Error('the Slack channel has no webhook URL');
  const res = await ctx.http({ method: 'POST', url, headers, body, timeoutMs: HTTP_TIMEOUT_MS });
  if (res.status < 200 || res.status >= 300) {
    const text = res.body.trim().slice(0, BODY_IN_ERROR);
    throw new Error(`HTTP ${res.status}${text ? `: ${text}` : ''}`);
  }
}

async function sendEmail(
  ctx: ChannelContext,
  channel: Extract<StoredChannel, { type: 'email' }>,
  secret: string | null,
  message: AlertMessage,
): Promise<void> {
  const timeouts = {
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  };
  const given = channel.smtpUrl ?? ctx.smtpUrl;
  if (!given) throw new Error('no SMTP server: set SLUICE_SMTP_URL, or give the channel its smtpUrl');
  const url = new URL(given);
  const secure = url.protocol === 'smtps:';
  // the channel's own server signs in with its user and sealed password; SLUICE_SMTP_URL carries its own
  const user = channel.smtpUrl ? channel.username : decodeURIComponent(url.username);
  const pass = channel.smtpUrl ? (secret ?? '') : decodeURIComponent(url.password);
  const transport = nodemailer.createTransport({
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    ...(user ? { auth: { user, pass } } : {}),
    ...timeouts,
  });
  try {
    await transport.sendMail({
      from: ctx.smtpFrom ?? 'sluice@localhost',
      to: channel.to,
      subject: `[Sluice] ${message.summary}`,
      text: alertText(message),
    });
  } finally {
    transport.close();
  }
}
