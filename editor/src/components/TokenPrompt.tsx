import { type FormEvent, useState } from 'react';
import { getToken, setToken } from '../lib/token';

interface Props {
  /** Whether a token was kept but the server refused it. */
  rejected: boolean;
  /** The token as kept. */
  onSaved: (token: string) => void;
}

/** Asks once for the API token; the browser keeps it. */
export function TokenPrompt({ rejected, onSaved }: Props) {
  const [value, setValue] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!value.trim()) return;
    setToken(value);
    onSaved(getToken() ?? value.trim());
  };
  return (
    <main className="main placeholder">
      <form className="token-prompt" data-testid="token-prompt" onSubmit={submit}>
        <h2>{rejected ? 'The server did not accept the API token' : 'Sign in with an API token'}</h2>
        <p>
          The server printed a token on its first start. To make another, run <code>pnpm sluice token create</code>.
          This browser keeps it, so you are asked once.
        </p>
        <label>
          API token
          <input
            data-testid="token-input"
            type="password"
            autoComplete="off"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            placeholder="slc_…"
            // biome-ignore lint/a11y/noAutofocus: the only thing to do on this screen
            autoFocus
          />
        </label>
        <button type="submit" className="button button-primary" data-testid="token-save" disabled={!value.trim()}>
          Save and continue
        </button>
      </form>
    </main>
  );
}
