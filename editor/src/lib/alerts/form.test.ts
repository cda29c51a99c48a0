import type { AlertRuleView } from '@sluice/shared';
import { alertRuleInputSchema } from '@sluice/shared';
import { describe, expect, it } from 'vitest';
import { buildRuleBody, conditionText, EMPTY_ALERT_FORM, formFromRule } from './form';

const stored: AlertRuleView = {
  id: 'al_1',
  flowId: 'f',
  name: 'Too many rejects',
  enabled: true,
  condition: { kind: 'failed-records', minFailed: 50, minShare: 0.05 },
  channel: {
    type: 'webhook',
    url: 'https://hooks.example.test/a',
    to: null,
    smtpUrl: null,
    username: null,
    hasSecret: true,
  },
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
};

describe('the alert rule form', () => {
  it('builds a body the API accepts, percent as a share', () => {
    const built = buildRuleBody({
      ...EMPTY_ALERT_FORM,
      minFailed: '50',
      minPercent: '5',
      url: 'https://hooks.example.test/a',
      secret: 'a-long-secret',
    });
    expect(built).toEqual({
      ok: true,
      body: {
        enabled: true,
        condition: { kind: 'failed-records', minFailed: 50, minShare: 0.05 },
        channel: { type: 'webhook', url: 'https://hooks.example.test/a', secret: 'a-long-secret' },
      },
    });
    if (built.ok) expect(alertRuleInputSchema.safeParse(built.body).success).toBe(true);
  });

  it('names each field at fault', () => {
    expect(
      buildRuleBody({ ...EMPTY_ALERT_FORM, minFailed: '0', minPercent: '120', url: 'ftp://x', secret: 'short' }),
    ).toEqual({
      ok: false,
      errors: {
        minFailed: 'a whole number, 1 or more',
        minPercent: 'a percentage above 0, at most 100',
        url: 'an http(s) URL',
        secret: 'at least 8 characters',
      },
    });
    expect(
      buildRuleBody({ ...EMPTY_ALERT_FORM, channel: 'email', to: 'ops', kind: 'run-longer', minutes: '' }),
    ).toEqual({
      ok: false,
      errors: { to: 'not an e-mail address', minutes: 'minutes, above 0' },
    });
  });

  it('keeps a stored webhook secret when the field is left empty, and turns minutes into seconds', () => {
    const form = formFromRule(stored);
    expect(form).toMatchObject({ minFailed: '50', minPercent: '5', secret: '', channel: 'webhook' });
    const built = buildRuleBody({ ...form, kind: 'run-longer', minutes: '1.5' }, stored);
    expect(built).toMatchObject({
      ok: true,
      body: { condition: { kind: 'run-longer', seconds: 90 }, channel: { type: 'webhook', url: stored.channel.url } },
    });
    expect(built.ok && 'secret' in built.body.channel).toBe(false);
    // a new rule has no secret to keep
    expect(buildRuleBody(form)).toMatchObject({ ok: false, errors: { secret: 'required: it signs each alert' } });
  });

  it('keeps a stored Slack URL, a secret never shown, when the field is left empty', () => {
    const slack = { ...stored, channel: { ...stored.channel, type: 'slack' as const, url: 'https://hooks.example/…' } };
    const form = formFromRule(slack);
    expect(form).toMatchObject({ channel: 'slack', url: '' });
    expect(buildRuleBody(form, slack)).toMatchObject({ ok: true, body: { channel: { type: 'slack' } } });
    const built = buildRuleBody(form, slack);
    expect(built.ok && 'url' in built.body.channel).toBe(false);
    expect(buildRuleBody({ ...form, url: 'https://hooks.example/T1/B2/x' }, slack)).toMatchObject({
      ok: true,
      body: { channel: { type: 'slack', url: 'https://hooks.example/T1/B2/x' } },
    });
    expect(buildRuleBody(form)).toMatchObject({
      ok: false,
      errors: { url: 'required: the webhook URL Slack gave you' },
    });
  });

  it('says a condition in words', () => {
    expect(conditionText(stored)).toBe('when a run succeeds with 50 or more, or 5 % or more of its records failed');
    expect(conditionText({ condition: { kind: 'run-longer', seconds: 1800 } })).toBe(
      'when a run goes on longer than 30 min',
    );
  });
});
