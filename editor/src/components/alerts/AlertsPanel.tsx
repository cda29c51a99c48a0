import type { AlertDelivery, AlertRuleView } from '@sluice/shared';
import { type FormEvent, useEffect, useId, useState } from 'react';
import { describeError, useApi } from '../../api';
import { useAsync } from '../../hooks/useAsync';
import {
  type AlertFieldKey,
  type AlertFormValues,
  buildRuleBody,
  CHANNEL_LABELS,
  channelText,
  conditionText,
  EMPTY_ALERT_FORM,
  formFromRule,
  KIND_LABELS,
} from '../../lib/alerts/form';
import { formatTimestamp } from '../../lib/format';
import { useCan } from '../../session';
import { ErrorMessage } from '../ErrorMessage';
import '../connections/connections.css';
import './alerts.css';

interface Props {
  flowId: string;
}

/** How often the recent deliveries are read again while the panel is open. */
const DELIVERIES_REFRESH_MS = 5000;

/** The flow's alert rules (list, add, edit, remove) and its recent alert deliveries with their status. */
export function AlertsPanel({ flowId }: Props) {
  const api = useApi();
  const canEdit = useCan()('alerts.write');
  const [rulesKey, setRulesKey] = useState(0);
  const [tick, setTick] = useState(0);
  const [editing, setEditing] = useState<AlertRuleView | 'new' | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  /** Each rule's last test: under way, or its delivery. */
  const [tests, setTests] = useState<Record<string, AlertDelivery | 'sending'>>({});
  const rules = useAsync(
    `${flowId}:${rulesKey}`,
    (signal) => api.call('listAlertRules', { params: { id: flowId }, signal }),
    true,
  );
  const deliveries = useAsync(
    `${flowId}:${rulesKey}:${tick}`,
    (signal) => api.call('listAlertDeliveries', { query: { flowId, limit: 20 }, signal }),
    true,
  );
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), DELIVERIES_REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  const remove = (rule: AlertRuleView) => {
    setActionError(null);
    api.call('deleteAlertRule', { params: { id: flowId, ruleId: rule.id } }).then(
      () => setRulesKey((k) => k + 1),
      (e: unknown) => setActionError(describeError(e)),
    );
  };

  const sendTest = (rule: AlertRuleView) => {
    setActionError(null);
    setTests((t) => ({ ...t, [rule.id]: 'sending' }));
    api.call('testAlertRule', { params: { id: flowId, ruleId: rule.id } }).then(
      (delivery) => {
        setTests((t) => ({ ...t, [rule.id]: delivery }));
        setTick((k) => k + 1);
      },
      (e: unknown) => {
        setTests(({ [rule.id]: _dropped, ...rest }) => rest);
        setActionError(describeError(e));
      },
    );
  };

  return (
    <section className="alerts-panel" data-testid="alerts-panel" aria-label="Alerts">
      <div className="side-head alerts-head">
        <h2>Alerts</h2>
        <span className="toolbar-gap" />
        {editing === null && canEdit && (
          <button
            type="button"
            className="button button-small"
            data-testid="alert-add"
            onClick={() => setEditing('new')}
          >
            Add rule
          </button>
        )}
      </div>
      <p className="muted alerts-intro">
        Tell someone when a run of this flow goes wrong: by webhook, Slack or e-mail.
      </p>
      {rules.error && <ErrorMessage title="Could not load the rules." message={rules.error} onRetry={rules.reload} />}
      {actionError && (
        <p className="error-text" role="alert">
          {actionError}
        </p>
      )}
      {editing !== null && (
        <AlertRuleForm
          flowId={flowId}
          original={editing === 'new' ? null : editing}
          onSaved={() => {
            setEditing(null);
            setRulesKey((k) => k + 1);
          }}
          onCancel={() => setEditing(null)}
        />
      )}
      {rules.data && rules.data.items.length === 0 && editing === null && (
        <p className="muted alerts-empty" data-testid="alerts-empty">
          No rules yet.
        </p>
      )}
      <ul className="plain-list alerts-rules">
        {rules.data?.items.map((rule) => (
          <li key={rule.id} className="alerts-rule" data-testid="alert-rule">
            <div className="alerts-rule-head">
              <strong>{rule.name}</strong>
              {!rule.enabled && <span className="badge">off</span>}
              <span className="toolbar-gap" />
              {canEdit && (
                <>
                  <button
                    type="button"
                    className="button button-small"
                    data-testid="alert-test"
                    title="Send a test alert through this rule's channel now"
                    disabled={tests[rule.id] === 'sending'}
                    onClick={() => sendTest(rule)}
                  >
                    {tests[rule.id] === 'sending' ? 'Sending…' : 'Send test'}
                  </button>
                  <button
                    type="button"
                    className="button button-small"
                    data-testid="alert-edit"
                    onClick={() => setEditing(rule)}
                  >
                    Edit
                  </button>
                  <button
                    type="button"
                    className="button button-small"
                    data-testid="alert-remove"
                    onClick={() => remove(rule)}
                  >
                    Remove
                  </button>
                </>
              )}
            </div>
            <div className="alerts-rule-text">{conditionText(rule)}</div>
            <div className="alerts-rule-text muted mono">{channelText(rule)}</div>
            <TestResult test={tests[rule.id]} />
          </li>
        ))}
      </ul>

      <h3 className="alerts-subhead">Recent deliveries</h3>
      {deliveries.error && (
        <ErrorMessage title="Could not load the deliveries." message={deliveries.error} onRetry={deliveries.reload} />
      )}
      {deliveries.data && deliveries.data.items.length === 0 && <p className="muted">None yet.</p>}
      <ul className="plain-list alerts-deliveries">
        {deliveries.data?.items.map((d) => (
          <DeliveryItem key={d.id} delivery={d} />
        ))}
      </ul>
    </section>
  );
}

/** What a rule's last test came to, under the rule. */
function TestResult({ test }: { test: AlertDelivery | 'sending' | undefined }) {
  if (test === undefined || test === 'sending') return null;
  if (test.status === 'delivered')
    return (
      <p
        className="alerts-rule-text alerts-test-ok"
        data-testid="alert-test-result"
        data-status="delivered"
        role="status"
      >
        Test alert delivered.
      </p>
    );
  if (test.status === 'failed')
    return (
      <p className="alerts-rule-text error-text" data-testid="alert-test-result" data-status="failed" role="alert">
        Test alert not delivered: {test.lastError}
      </p>
    );
  return (
    <p className="alerts-rule-text muted" data-testid="alert-test-result" data-status="pending" role="status">
      Test alert still waiting to be sent: no server process sends alerts right now.
    </p>
  );
}

function DeliveryItem({ delivery: d }: { delivery: AlertDelivery }) {
  return (
    <li className="alerts-delivery" data-testid="alert-delivery" data-status={d.status}>
      <div className="alerts-rule-head">
        <span className={`badge alerts-status alerts-status-${d.status}`}>{d.status}</span>
        {d.test && <span className="badge">test</span>}
        <span className="alerts-nowrap">{formatTimestamp(d.createdAt)}</span>
      </div>
      <div className="alerts-rule-text muted">
        {d.ruleName} · {d.channel} · {d.attempts} {d.attempts === 1 ? 'attempt' : 'attempts'}
      </div>
      <div className="alerts-rule-text">{d.summary}</div>
      {d.lastError && <div className="alerts-rule-text error-text">Last error: {d.lastError}</div>}
      {d.status === 'pending' && d.nextAttemptAt && (
        <div className="alerts-rule-text muted">Next attempt {formatTimestamp(d.nextAttemptAt)}</div>
      )}
    </li>
  );
}

interface FormProps {
  flowId: string;
  original: AlertRuleView | null;
  onSaved: () => void;
  onCancel: () => void;
}

function AlertRuleForm({ flowId, original, onSaved, onCancel }: FormProps) {
  const api = useApi();
  const id = useId();
  const [v, setValues] = useState<AlertFormValues>(() => (original ? formFromRule(original) : EMPTY_ALERT_FORM));
  const [errors, setErrors] = useState<Partial<Record<AlertFieldKey, string>>>({});
  const [topError, setTopError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const set = <K extends keyof AlertFormValues>(key: K, value: AlertFormValues[K]) => {
    setValues((old) => ({ ...old, [key]: value }));
    setErrors((e) => (key in e ? { ...e, [key]: undefined } : e));
  };
  const fid = (name: string) => `${id}-${name}`;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (saving) return;
    const built = buildRuleBody(v, original);
    if (!built.ok) {
      setErrors(built.errors);
      return;
    }
    setSaving(true);
    setTopError(null);
    const saved = original
      ? api.call('updateAlertRule', { params: { id: flowId, ruleId: original.id }, body: built.body })
      : api.call('createAlertRule', { params: { id: flowId }, body: built.body });
    saved.then(onSaved, (e: unknown) => {
      setSaving(false);
      setTopError(describeError(e));
    });
  };

  const keepsSecret = original?.channel.type === v.channel && original.channel.hasSecret;
  const text = (key: AlertFieldKey | 'name' | 'username', label: string, props: Record<string, string> = {}) => (
    <label className="alerts-field" htmlFor={fid(key)}>
      <span>{label}</span>
      <input
        id={fid(key)}
        className="connection-input"
        data-testid={`alert-${key}`}
        value={v[key]}
        onChange={(e) => set(key, e.target.value)}
        aria-invalid={Boolean(errors[key as AlertFieldKey])}
        autoComplete="off"
        spellCheck={false}
        {...props}
      />
      {errors[key as AlertFieldKey] && <span className="error-text">{errors[key as AlertFieldKey]}</span>}
    </label>
  );

  return (
    <form className="alerts-form" data-testid="alert-form" onSubmit={submit} noValidate>
      <h3 className="alerts-subhead">{original ? `Edit “${original.name}”` : 'New rule'}</h3>
      {topError && (
        <p className="error-text" role="alert" data-testid="alert-form-error">
          {topError}
        </p>
      )}
      {text('name', 'Name (optional)', { placeholder: 'made from the rule' })}
      <label className="alerts-field" htmlFor={fid('kind')}>
        <span>When</span>
        <select
          id={fid('kind')}
          className="connection-input"
          data-testid="alert-kind"
          value={v.kind}
          onChange={(e) => set('kind', e.target.value as AlertFormValues['kind'])}
        >
          {Object.entries(KIND_LABELS).map(([kind, label]) => (
            <option key={kind} value={kind}>
              {label}
            </option>
          ))}
        </select>
      </label>
      {v.kind === 'failed-records' && (
        <div className="alerts-row">
          {text('minFailed', 'Failed records, at least', { inputMode: 'numeric', placeholder: 'e.g. 50' })}
          {text('minPercent', 'or share, at least (%)', { inputMode: 'decimal' })}
        </div>
      )}
      {v.kind === 'run-longer' && text('minutes', 'Longer than (minutes)', { inputMode: 'decimal' })}
      <label className="alerts-field" htmlFor={fid('channel')}>
        <span>Send to</span>
        <select
          id={fid('channel')}
          className="connection-input"
          data-testid="alert-channel"
          value={v.channel}
          onChange={(e) => set('channel', e.target.value as AlertFormValues['channel'])}
        >
          {Object.entries(CHANNEL_LABELS).map(([type, label]) => (
            <option key={type} value={type}>
              {label}
            </option>
          ))}
        </select>
      </label>
      {v.channel === 'webhook' && text('url', 'URL', { type: 'url', placeholder: 'https://…' })}
      {v.channel === 'slack' &&
        text('url', 'Webhook URL (kept encrypted)', {
          type: 'password',
          placeholder: keepsSecret
            ? `stored (${original?.channel.url ?? ''}): leave empty to keep it`
            : 'https://hooks…',
        })}
      {v.channel === 'webhook' &&
        text('secret', 'Signing secret', {
          type: 'password',
          placeholder: keepsSecret ? 'stored: leave empty to keep it' : 'at least 8 characters',
        })}
      {v.channel === 'email' && (
        <>
          {text('to', 'To', { placeholder: 'ops@example.com, oncall@example.com' })}
          {text('smtpUrl', 'SMTP server (optional)', { placeholder: 'the server’s SLUICE_SMTP_URL' })}
          {v.smtpUrl.trim() && (
            <div className="alerts-row">
              {text('username', 'SMTP user')}
              {text('secret', 'SMTP password', {
                type: 'password',
                placeholder: keepsSecret ? 'stored: leave empty to keep' : '',
              })}
            </div>
          )}
        </>
      )}
      <label className="alerts-check">
        <input type="checkbox" checked={v.enabled} onChange={(e) => set('enabled', e.target.checked)} />
        On
      </label>
      <div className="alerts-actions">
        <button type="submit" className="button button-small button-primary" data-testid="alert-save" disabled={saving}>
          {saving ? 'Saving…' : original ? 'Save rule' : 'Add rule'}
        </button>
        <button type="button" className="button button-small" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
