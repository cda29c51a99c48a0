import type { ApiClient, SessionView } from '@sluice/shared';
import { type FormEvent, useState } from 'react';
import { describeError } from '../api';

interface Props {
  /** A client without a token (the session cookie signs in). */
  client: ApiClient;
  /** The one-time setup token from the address: the form makes the first admin instead. */
  setupToken: string | null;
  onSignedIn: (session: SessionView) => void;
  /** Switches to signing in with an API token. */
  onUseToken: () => void;
}

/** Signing in with e-mail and password, or, on a first start, making the first admin. */
export function LoginPage({ client, setupToken, onSignedIn, onUseToken }: Props) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const call = setupToken
      ? client.call('setup', { body: { token: setupToken, email, name, password } })
      : client.call('login', { body: { email, password } });
    call.then(
      (session) => {
        if (setupToken) history.replaceState(null, '', location.pathname + location.search);
        onSignedIn(session);
      },
      (err: unknown) => {
        setBusy(false);
        setError(describeError(err));
      },
    );
  };
  return (
    <main className="main placeholder">
      <form className="token-prompt login-form" data-testid="login-form" onSubmit={submit}>
        <h2>{setupToken ? 'Make the first admin account' : 'Sign in to Sluice'}</h2>
        {setupToken && <p>This link works once. The account you make here is an admin: it can add the others.</p>}
        {error && (
          <p className="error-text" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <label>
          E-mail
          <input
            data-testid="login-email"
            type="email"
            autoComplete="username"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            // biome-ignore lint/a11y/noAutofocus: the first thing to do on this screen
            autoFocus
          />
        </label>
        {setupToken && (
          <label>
            Display name
            <input data-testid="login-name" value={name} onChange={(e) => setName(e.target.value)} />
          </label>
        )}
        <label>
          Password
          <input
            data-testid="login-password"
            type="password"
            autoComplete={setupToken ? 'new-password' : 'current-password'}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <button
          type="submit"
          className="button button-primary"
          data-testid="login-submit"
          disabled={busy || !email.trim() || !password || (setupToken !== null && !name.trim())}
        >
          {setupToken ? 'Make the account and sign in' : busy ? 'Signing in…' : 'Sign in'}
        </button>
        {!setupToken && (
          <button type="button" className="button-link" data-testid="use-token" onClick={onUseToken}>
            Use an API token instead
          </button>
        )}
      </form>
    </main>
  );
}
