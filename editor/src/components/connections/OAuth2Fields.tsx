import type { ReactNode } from 'react';
import {
  CLIENT_AUTH_LABELS,
  type FieldErrors,
  type FieldKey,
  type FormValues,
  GRANT_LABELS,
  type OAuth2ClientAuth,
  type OAuth2Grant,
} from './form';

interface Props {
  values: FormValues;
  errors: FieldErrors;
  /** The stored refresh token masked ('••••abcd'), or null. */
  storedRefreshToken: string | null;
  set: <K extends keyof FormValues>(key: K, value: FormValues[K], clears?: FieldKey[]) => void;
  /** Ids for the labels, unique to the form. */
  fid: (name: string) => string;
  Field: (props: {
    label: string;
    htmlFor: string;
    error: string | undefined;
    optional?: boolean;
    children: ReactNode;
  }) => ReactNode;
}

/**
 * The OAuth2 part of the connection form: the grant, the token endpoint, the client id, scopes and
 * audience, and (refresh-token grant) the refresh token, write-only like the secret. The client
 * secret is the form's secret field.
 */
export function OAuth2Fields({ values, errors, storedRefreshToken, set, fid, Field }: Props) {
  const text = (
    key: 'tokenUrl' | 'clientId' | 'scopes' | 'audience',
    label: string,
    placeholder: string,
    optional = false,
  ) => {
    const field = `oauth2.${key}` as FieldKey;
    return (
      <Field label={label} htmlFor={fid(key)} error={errors[field]} optional={optional}>
        <input
          id={fid(key)}
          className="connection-input mono"
          data-testid={`connection-oauth2-${key}`}
          value={values[key]}
          onChange={(e) => set(key, e.target.value, [field, 'oauth2'])}
          placeholder={placeholder}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={Boolean(errors[field])}
        />
      </Field>
    );
  };
  return (
    <fieldset className="connection-group" data-testid="connection-oauth2">
      <legend>OAuth2</legend>
      <Field label="Grant" htmlFor={fid('grant')} error={errors['oauth2.grant']}>
        <select
          id={fid('grant')}
          className="connection-input"
          data-testid="connection-oauth2-grant"
          value={values.grant}
          onChange={(e) => set('grant', e.target.value as OAuth2Grant, ['oauth2.grant', 'refreshToken', 'secret'])}
        >
          {(Object.keys(GRANT_LABELS) as OAuth2Grant[]).map((g) => (
            <option key={g} value={g}>
              {GRANT_LABELS[g]}
            </option>
          ))}
        </select>
      </Field>
      {text('tokenUrl', 'Token URL', 'https://auth.example.com/oauth/token')}
      {text('clientId', 'Client id', 'sluice')}
      <Field label="Client id and secret sent" htmlFor={fid('clientAuth')} error={errors['oauth2.clientAuth']}>
        <select
          id={fid('clientAuth')}
          className="connection-input"
          data-testid="connection-oauth2-clientAuth"
          value={values.clientAuth}
          onChange={(e) => set('clientAuth', e.target.value as OAuth2ClientAuth, ['oauth2.clientAuth'])}
        >
          {(Object.keys(CLIENT_AUTH_LABELS) as OAuth2ClientAuth[]).map((a) => (
            <option key={a} value={a}>
              {CLIENT_AUTH_LABELS[a]}
            </option>
          ))}
        </select>
      </Field>
      {text('scopes', 'Scopes', 'orders.read orders.write', true)}
      {text('audience', 'Audience', 'https://api.example.com', true)}
      {values.grant === 'refresh_token' && (
        <Field label="Refresh token" htmlFor={fid('refreshToken')} error={errors.refreshToken}>
          <input
            id={fid('refreshToken')}
            className="connection-input mono"
            data-testid="connection-oauth2-refreshToken"
            type="password"
            value={values.refreshToken}
            onChange={(e) => set('refreshToken', e.target.value)}
            placeholder={storedRefreshToken ? `${storedRefreshToken} (leave empty to keep)` : 'required'}
            autoComplete="new-password"
            spellCheck={false}
            aria-invalid={Boolean(errors.refreshToken)}
          />
          <span className="connection-hint">
            Stored encrypted; when the token endpoint rotates it, the new one is kept in its place.
          </span>
        </Field>
      )}
      <span className="connection-hint">
        Tokens are fetched when a request needs one and kept until shortly before they expire; a refused token is
        renewed once.
      </span>
    </fieldset>
  );
}
