import type { SessionInfo } from '@sluice/shared';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { describeError, useApi } from '../../api';
import { useSession } from '../../session';
import { ApiTokens } from './ApiTokens';

/** The header's account button: who is signed in with what role; password, sessions, API tokens and sign-out. */
export function AccountMenu() {
  const session = useSession();
  const [open, setOpen] = useState(false);
  if (!session) return null;
  const { view } = session;
  const label = view.user?.name ?? view.actor.name;
  return (
    <div className="account">
      <button
        type="button"
        className="header-link account-button"
        data-testid="account-button"
        title={`${label} · ${view.role}`}
        aria-expanded={open}
        onClick={() => setOpen((v) => !v)}
      >
        {label} · {view.role}
      </button>
      {open && (
        <div className="account-menu" data-testid="account-menu">
          <p className="muted small">
            {view.user ? view.user.email : `API token “${view.actor.name}”`} · role {view.role}
          </p>
          {view.user && view.csrfToken !== null && <PasswordForm />}
          {view.user && view.csrfToken !== null && <Sessions />}
          {view.user && view.csrfToken !== null && <ApiTokens userId={view.user.id} role={view.role} />}
          <button
            type="button"
            className="button button-small"
            data-testid="sign-out"
            onClick={() => session.signOut()}
          >
            {view.csrfToken !== null ? 'Sign out' : 'Forget the token'}
          </button>
        </div>
      )}
    </div>
  );
}

function PasswordForm() {
  const api = useApi();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    api.call('changePassword', { body: { currentPassword: current, newPassword: next } }).then(
      () => {
        setCurrent('');
        setNext('');
        setMessage({ error: false, text: 'Password changed; your other sessions are signed out.' });
      },
      (err: unknown) => setMessage({ error: true, text: describeError(err) }),
    );
  };
  return (
    <form className="account-password" data-testid="password-form" onSubmit={submit}>
      <strong>Change password</strong>
      <input
        type="password"
        aria-label="Current password"
        placeholder="Current password"
        autoComplete="current-password"
        data-testid="password-current"
        value={current}
        onChange={(e) => setCurrent(e.target.value)}
      />
      <input
        type="password"
        aria-label="New password"
        placeholder="New password (10 characters or more)"
        autoComplete="new-password"
        data-testid="password-new"
        value={next}
        onChange={(e) => setNext(e.target.value)}
      />
      <button type="submit" className="button button-small" disabled={!current || !next}>
        Change
      </button>
      {message && (
        <p className={message.error ? 'error-text' : 'muted small'} role="status" data-testid="password-message">
          {message.text}
        </p>
      )}
    </form>
  );
}

function Sessions() {
  const api = useApi();
  const [items, setItems] = useState<SessionInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    api.call('listSessions').then(
      (page) => setItems(page.items),
      (err: unknown) => setError(describeError(err)),
    );
  }, [api]);
  useEffect(load, [load]);
  return (
    <div className="account-sessions" data-testid="sessions">
      <strong>Sessions</strong>
      {error && <p className="error-text">{error}</p>}
      <ul>
        {items?.map((s) => (
          <li key={s.id} data-testid="session-row">
            <span className="small">
              {s.current ? 'This browser' : (s.userAgent ?? 'unknown browser').slice(0, 40)} · since{' '}
              {new Date(s.createdAt).toLocaleString()}
              {s.address ? ` · ${s.address}` : ''}
            </span>
            {!s.current && (
              <button
                type="button"
                className="button button-small"
                onClick={() => api.call('revokeSession', { params: { id: s.id } }).then(load, load)}
              >
                Sign out
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
