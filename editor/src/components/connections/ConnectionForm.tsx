import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { describeError, useApi } from '../../api';
import {
  AUTH_LABELS,
  AUTH_TYPES,
  type AuthType,
  buildBody,
  type ConnectionView,
  EMPTY_FORM,
  type FieldErrors,
  type FieldKey,
  type FormValues,
  formFromConnection,
  newConnectionInput,
  placeError,
  secretLabel,
} from './form';

interface Props {
  /** The stored connection being edited; absent to create one. */
  original?: ConnectionView | null;
  onSaved: (saved: ConnectionView) => void;
  onCancel: () => void;
}

/** Creates a connection, or edits one (its name fixed; an empty secret keeps the stored one). */
export function ConnectionForm({ original, onSaved, onCancel }: Props) {
  const editing = Boolean(original);
  const [values, setValues] = useState<FormValues>(() => (original ? formFromConnection(original) : EMPTY_FORM));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [topError, setTopError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const api = useApi();
  const mounted = useRef(true);
  const firstField = useRef<HTMLInputElement>(null);
  const id = useId();

  useEffect(() => {
    mounted.current = true;
    firstField.current?.focus();
    return () => {
      mounted.current = false;
    };
  }, []);

  const set = <K extends keyof FormValues>(key: K, value: FormValues[K], clears: FieldKey[] = []) => {
    setValues((v) => ({ ...v, [key]: value }));
    const cleared = [key as FieldKey, ...clears];
    setErrors((e) => (cleared.some((k) => e[k]) ? omit(e, cleared) : e));
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (saving) return;
    setTopError(null);
    const built = buildBody(values, original);
    if (!built.ok) {
      setErrors(built.errors);
      return;
    }
    setErrors({});
    setSaving(true);
    const { body } = built;
    const call = original
      ? api.call('updateConnection', { params: { name: original.name }, body })
      : Promise.resolve().then(() => api.call('createConnection', { body: newConnectionInput(body) }));
    call.then(
      (saved) => {
        if (!mounted.current) return;
        setSaving(false);
        // The typed secret goes with the form; only the server's masked value is shown from here on.
        setValues((v) => ({ ...v, secret: '', removeSecret: false }));
        onSaved(saved);
      },
      (error: unknown) => {
        if (!mounted.current) return;
        setSaving(false);
        const placed = placeError(error, describeError);
        if (placed.field) setErrors({ [placed.field]: placed.message });
        else setTopError(placed.message);
      },
    );
  };

  const auth = values.auth;
  const storedSecret = original?.secret ?? null;
  const fid = (name: string) => `${id}-${name}`;

  return (
    <form className="connection-form" data-testid="connection-form" onSubmit={submit} noValidate>
      <div className="connection-form-head">
        <h3>{original ? `Edit ${original.name}` : 'New connection'}</h3>
      </div>
      {topError && (
        <p className="error-text connection-form-error" role="alert" data-testid="connection-form-error">
          {topError}
        </p>
      )}

      <Field label="Name" htmlFor={fid('name')} error={errors.name}>
        <input
          id={fid('name')}
          ref={editing ? undefined : firstField}
          className="connection-input mono"
          data-testid="connection-name"
          value={values.name}
          onChange={(e) => set('name', e.target.value)}
          disabled={editing}
          placeholder="crm"
          autoComplete="off"
          spellCheck={false}
          aria-invalid={Boolean(errors.name)}
        />
        {editing && <span className="connection-hint">Flows refer to a connection by name; it cannot change.</span>}
      </Field>

      <Field label="Base URL" htmlFor={fid('baseUrl')} error={errors.baseUrl}>
        <input
          id={fid('baseUrl')}
          ref={editing ? firstField : undefined}
          className="connection-input mono"
          data-testid="connection-baseUrl"
          type="url"
          value={values.baseUrl}
          onChange={(e) => set('baseUrl', e.target.value)}
          placeholder="https://api.example.com/v1"
          autoComplete="off"
          spellCheck={false}
          aria-invalid={Boolean(errors.baseUrl)}
        />
      </Field>

      <Field label="Authentication" htmlFor={fid('auth')} error={errors.auth}>
        <select
          id={fid('auth')}
          className="connection-input"
          data-testid="connection-auth"
          value={auth}
          onChange={(e) => set('auth', e.target.value as AuthType, ['username', 'headerName', 'secret'])}
        >
          {AUTH_TYPES.map((a) => (
            <option key={a} value={a}>
              {AUTH_LABELS[a]}
            </option>
          ))}
        </select>
      </Field>

      {auth === 'basic' && (
        <Field label="User name" htmlFor={fid('username')} error={errors.username}>
          <input
            id={fid('username')}
            className="connection-input"
            data-testid="connection-username"
            value={values.username}
            onChange={(e) => set('username', e.target.value)}
            autoComplete="off"
            spellCheck={false}
            aria-invalid={Boolean(errors.username)}
          />
        </Field>
      )}

      {auth === 'api-key' && (
        <Field label="Header name" htmlFor={fid('headerName')} error={errors.headerName}>
          <input
            id={fid('headerName')}
            className="connection-input mono"
            data-testid="connection-headerName"
            value={values.headerName}
            onChange={(e) => set('headerName', e.target.value)}
            placeholder="X-API-Key"
            autoComplete="off"
            spellCheck={false}
            aria-invalid={Boolean(errors.headerName)}
          />
        </Field>
      )}

      {auth === 'none' ? (
        editing &&
        storedSecret && (
          <p className="connection-hint" data-testid="connection-secret-dropped">
            No credentials are sent without authentication; saving removes the stored secret.
          </p>
        )
      ) : (
        <Field label={secretLabel(auth)} htmlFor={fid('secret')} error={errors.secret}>
          <input
            id={fid('secret')}
            className="connection-input mono"
            data-testid="connection-secret"
            type="password"
            value={values.secret}
            onChange={(e) => set('secret', e.target.value)}
            disabled={values.removeSecret}
            placeholder={
              storedSecret ? `${storedSecret} (leave empty to keep)` : auth === 'basic' ? 'optional' : 'required'
            }
            autoComplete="new-password"
            spellCheck={false}
            aria-invalid={Boolean(errors.secret)}
          />
          {editing && storedSecret && (
            <label className="connection-check">
              <input
                type="checkbox"
                data-testid="connection-remove-secret"
                checked={values.removeSecret}
                onChange={(e) => {
                  const remove = e.target.checked;
                  setValues((v) => ({ ...v, removeSecret: remove, secret: remove ? '' : v.secret }));
                  setErrors((er) => omit(er, ['secret']));
                }}
              />
              Remove the secret
            </label>
          )}
          <span className="connection-hint">
            Stored encrypted and never shown again{storedSecret ? '; leave empty to keep the stored one.' : '.'}
          </span>
        </Field>
      )}

      <Field label="Check path" htmlFor={fid('checkPath')} error={errors.checkPath} optional>
        <input
          id={fid('checkPath')}
          className="connection-input mono"
          data-testid="connection-checkPath"
          value={values.checkPath}
          onChange={(e) => set('checkPath', e.target.value)}
          placeholder="/health"
          autoComplete="off"
          spellCheck={false}
          aria-invalid={Boolean(errors.checkPath)}
        />
        <span className="connection-hint">Test calls GET base URL + this path.</span>
      </Field>

      <fieldset className="connection-group">
        <legend>
          Circuit breaker <span className="muted">(optional)</span>
        </legend>
        <div className="connection-group-fields">
          <Field label="Failures before it opens" htmlFor={fid('threshold')} error={errors['breaker.failureThreshold']}>
            <input
              id={fid('threshold')}
              className="connection-input"
              data-testid="connection-breaker-threshold"
              inputMode="numeric"
              value={values.failureThreshold}
              onChange={(e) => set('failureThreshold', e.target.value, ['breaker', 'breaker.failureThreshold'])}
              placeholder="5"
              aria-invalid={Boolean(errors['breaker.failureThreshold'])}
            />
          </Field>
          <Field label="Cooldown (ms)" htmlFor={fid('cooldown')} error={errors['breaker.cooldownMs']}>
            <input
              id={fid('cooldown')}
              className="connection-input"
              data-testid="connection-breaker-cooldown"
              inputMode="numeric"
              value={values.cooldownMs}
              onChange={(e) => set('cooldownMs', e.target.value, ['breaker', 'breaker.cooldownMs'])}
              placeholder="30000"
              aria-invalid={Boolean(errors['breaker.cooldownMs'])}
            />
          </Field>
        </div>
        {errors.breaker && (
          <p className="error-text connection-field-error" data-testid="connection-error-breaker">
            {errors.breaker}
          </p>
        )}
      </fieldset>

      <fieldset className="connection-group" data-testid="connection-limits">
        <legend>
          Limits <span className="muted">(optional)</span>
        </legend>
        <div className="connection-group-fields">
          <Field label="Requests at once" htmlFor={fid('maxConcurrent')} error={errors['limits.maxConcurrent']}>
            <input
              id={fid('maxConcurrent')}
              className="connection-input"
              data-testid="connection-limit-concurrent"
              inputMode="numeric"
              value={values.maxConcurrent}
              onChange={(e) => set('maxConcurrent', e.target.value, ['limits', 'limits.maxConcurrent'])}
              placeholder="no limit"
              aria-invalid={Boolean(errors['limits.maxConcurrent'])}
            />
          </Field>
          <Field label="Requests per second" htmlFor={fid('maxPerSecond')} error={errors['limits.maxPerSecond']}>
            <input
              id={fid('maxPerSecond')}
              className="connection-input"
              data-testid="connection-limit-per-second"
              inputMode="decimal"
              value={values.maxPerSecond}
              onChange={(e) => set('maxPerSecond', e.target.value, ['limits', 'limits.maxPerSecond'])}
              placeholder="no limit"
              aria-invalid={Boolean(errors['limits.maxPerSecond'])}
            />
          </Field>
        </div>
        <label className="connection-check" htmlFor={fid('adaptive')}>
          <input
            id={fid('adaptive')}
            type="checkbox"
            data-testid="connection-limit-adaptive"
            checked={values.adaptive}
            onChange={(e) => set('adaptive', e.target.checked, ['limits'])}
          />
          Learn the system’s pace: slow down on 429 and 503, Retry-After, rate-limit headers and rising latency, speed
          up while it keeps up (never above the limits)
        </label>
        <span className="connection-hint">
          Shared by every run and every worker using this connection: requests wait for their turn rather than fail.
          Leave empty for no limit.
        </span>
        {errors.limits && (
          <p className="error-text connection-field-error" data-testid="connection-error-limits">
            {errors.limits}
          </p>
        )}
      </fieldset>

      <div className="connection-form-actions">
        <button
          type="submit"
          className="button button-small button-primary"
          data-testid="connection-save"
          disabled={saving}
        >
          {saving ? 'Saving…' : editing ? 'Save changes' : 'Create'}
        </button>
        <button type="button" className="button button-small" onClick={onCancel} disabled={saving}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function Field({
  label,
  htmlFor,
  error,
  optional,
  children,
}: {
  label: string;
  htmlFor: string;
  error: string | undefined;
  optional?: boolean;
  children: ReactNode;
}) {
  return (
    <div className={`connection-field${error ? ' has-error' : ''}`}>
      <label htmlFor={htmlFor}>
        {label}
        {optional && <span className="muted"> (optional)</span>}
      </label>
      {children}
      {error && (
        <p className="error-text connection-field-error" data-testid="connection-field-error">
          {error}
        </p>
      )}
    </div>
  );
}

function omit(errors: FieldErrors, keys: FieldKey[]): FieldErrors {
  const next = { ...errors };
  for (const k of keys) delete next[k];
  return next;
}
