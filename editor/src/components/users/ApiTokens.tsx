import { ROLES, type Role, type TokenInfo } from '@sluice/shared';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { describeError, useApi } from '../../api';
import { formatTimestamp } from '../../lib/format';
import { useCan } from '../../session';

interface Props {
  /** The signed-in user: their tokens are theirs; an admin sees everyone's. */
  userId: string;
  role: Role;
}

/**
 * API tokens in the account menu: the tokens the signed-in user may see (an admin: all, with their
 * owner), a form to make one that acts with at most the user's role, the new token shown once with a
 * button to copy it, and a revoke button on each.
 */
export function ApiTokens({ userId, role }: Props) {
  const api = useApi();
  const can = useCan();
  const canCreate = can('tokens.write');
  const canSeeUsers = can('users.manage');
  /** Admins: the users' names, to say whose each token is. */
  const [owners, setOwners] = useState<Map<string, string>>(new Map());
  const [items, setItems] = useState<TokenInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [tokenRole, setTokenRole] = useState<Role>(role);
  const [days, setDays] = useState('');
  const [made, setMade] = useState<{ token: string; name: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const load = useCallback(() => {
    api.call('listTokens').then(
      (page) => setItems(page.items),
      (err: unknown) => setError(describeError(err)),
    );
  }, [api]);
  useEffect(load, [load]);
  useEffect(() => {
    if (!canSeeUsers) return;
    api.call('listUsers').then(
      (page) => setOwners(new Map(page.items.map((u) => [u.id, u.name]))),
      () => setOwners(new Map()),
    );
  }, [api, canSeeUsers]);
  // a token acts with at most its owner's role: the roles from the user's own down
  const roles = ROLES.slice(ROLES.indexOf(role));

  const create = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    const expiresInDays = days.trim() ? Number(days) : undefined;
    api
      .call('createToken', {
        body: { name: name.trim(), role: tokenRole, ...(expiresInDays !== undefined ? { expiresInDays } : {}) },
      })
      .then(
        (created) => {
          setMade({ token: created.token, name: created.info.name });
          setCopied(false);
          setName('');
          setDays('');
          load();
        },
        (err: unknown) => setError(describeError(err)),
      );
  };

  const revoke = (token: TokenInfo) => {
    setError(null);
    api.call('revokeToken', { params: { id: token.id } }).then(load, (err: unknown) => setError(describeError(err)));
  };

  return (
    <div className="account-tokens" data-testid="api-tokens">
      <strong>API tokens</strong>
      <p className="muted small">For scripts and CI: sent as “Authorization: Bearer …”, with the role chosen.</p>
      {error && (
        <p className="error-text" role="alert" data-testid="api-token-error">
          {error}
        </p>
      )}
      {made && (
        <div className="account-token-made" data-testid="api-token-made" role="status">
          <span className="small">Token “{made.name}”: copy it now, it is not shown again.</span>
          <input
            readOnly
            aria-label="The new token"
            className="mono"
            data-testid="api-token-value"
            value={made.token}
            onFocus={(e) => e.currentTarget.select()}
          />
          <button
            type="button"
            className="button button-small"
            data-testid="api-token-copy"
            onClick={() =>
              navigator.clipboard?.writeText(made.token).then(
                () => setCopied(true),
                () => setCopied(false),
              )
            }
          >
            {copied ? 'Copied' : 'Copy'}
          </button>
        </div>
      )}
      <ul>
        {items?.length === 0 && <li className="muted small">None yet.</li>}
        {items?.map((t) => (
          <li key={t.id} data-testid="api-token-row" data-name={t.name}>
            <span className="small">
              <strong>{t.name}</strong> <span className="mono">{t.prefix}…</span> · {t.role}
              {t.userId === null
                ? ' · service'
                : t.userId !== userId
                  ? ` · ${owners.get(t.userId) ?? 'another user'}’s`
                  : ''}
              <br />
              <span className="muted">
                {t.lastUsedAt ? `used ${formatTimestamp(t.lastUsedAt)}` : 'never used'}
                {t.expiresAt ? ` · expires ${formatTimestamp(t.expiresAt)}` : ''}
              </span>
            </span>
            <button
              type="button"
              className="button button-small"
              data-testid="api-token-revoke"
              onClick={() => revoke(t)}
            >
              Revoke
            </button>
          </li>
        ))}
      </ul>
      {canCreate && (
        <form className="account-token-form" data-testid="api-token-form" onSubmit={create}>
          <input
            aria-label="Token name"
            placeholder="Name (what uses it)"
            data-testid="api-token-name"
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
          <div className="account-token-row">
            <select
              aria-label="Role of the token"
              data-testid="api-token-role"
              value={tokenRole}
              onChange={(e) => setTokenRole(e.target.value as Role)}
            >
              {roles.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
            <input
              type="number"
              min={1}
              max={3650}
              aria-label="Expires after days"
              placeholder="Expiry, days"
              data-testid="api-token-days"
              value={days}
              onChange={(e) => setDays(e.target.value)}
            />
            <button
              type="submit"
              className="button button-small"
              data-testid="api-token-create"
              disabled={!name.trim()}
            >
              Create
            </button>
          </div>
        </form>
      )}
    </div>
  );
}
