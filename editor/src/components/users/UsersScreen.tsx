import { ROLE_DESCRIPTIONS, ROLES, type Role, type UserView } from '@sluice/shared';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { describeError, useApi } from '../../api';
import { useSession } from '../../session';

/** Admins: the users, adding one with a role, changing a role, deactivating and removing. */
export function UsersScreen() {
  const api = useApi();
  const me = useSession()?.view.user?.id;
  const [users, setUsers] = useState<UserView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    api.call('listUsers').then(
      (page) => setUsers(page.items),
      (err: unknown) => setError(describeError(err)),
    );
  }, [api]);
  useEffect(load, [load]);
  const act = (work: Promise<unknown>) =>
    work.then(
      () => {
        setError(null);
        load();
      },
      (err: unknown) => setError(describeError(err)),
    );
  return (
    <main className="users-screen" data-testid="users-screen">
      <h2>Users</h2>
      <p className="muted">Roles: {ROLES.map((r) => `${r} (${ROLE_DESCRIPTIONS[r].toLowerCase()})`).join('; ')}.</p>
      {error && (
        <p className="error-text" role="alert" data-testid="users-error">
          {error}
        </p>
      )}
      <table className="users-table">
        <thead>
          <tr>
            <th>E-mail</th>
            <th>Name</th>
            <th>Role</th>
            <th>Status</th>
            <th aria-label="Actions" />
          </tr>
        </thead>
        <tbody>
          {users?.map((u) => (
            <tr key={u.id} data-testid="user-row" data-email={u.email}>
              <td>{u.email}</td>
              <td>{u.name}</td>
              <td>
                <select
                  aria-label={`Role of ${u.email}`}
                  data-testid="user-role"
                  value={u.role}
                  onChange={(e) =>
                    act(api.call('updateUser', { params: { id: u.id }, body: { role: e.target.value as Role } }))
                  }
                >
                  {ROLES.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
              </td>
              <td>{u.active ? 'active' : 'deactivated'}</td>
              <td className="users-actions">
                <button
                  type="button"
                  className="button button-small"
                  data-testid="user-toggle-active"
                  onClick={() => act(api.call('updateUser', { params: { id: u.id }, body: { active: !u.active } }))}
                >
                  {u.active ? 'Deactivate' : 'Activate'}
                </button>
                {u.id !== me && (
                  <button
                    type="button"
                    className="button button-small button-danger"
                    data-testid="user-delete"
                    onClick={() => {
                      if (window.confirm(`Remove ${u.email} with their sessions and tokens?`)) {
                        act(api.call('deleteUser', { params: { id: u.id } }));
                      }
                    }}
                  >
                    Remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {users === null && !error && <p className="muted">Loading…</p>}
      <NewUserForm onCreated={load} />
    </main>
  );
}

function NewUserForm({ onCreated }: { onCreated: () => void }) {
  const api = useApi();
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    api.call('createUser', { body: { email, name, role, password } }).then(
      (user) => {
        setNotice(`${user.email} added as ${user.role}. Tell them their first password; they can change it.`);
        setEmail('');
        setName('');
        setPassword('');
        onCreated();
      },
      (err: unknown) => setError(describeError(err)),
    );
  };
  return (
    <form className="users-new" data-testid="user-new-form" onSubmit={submit}>
      <h3>Add a user</h3>
      {error && (
        <p className="error-text" role="alert" data-testid="user-new-error">
          {error}
        </p>
      )}
      {notice && (
        <p role="status" data-testid="user-new-notice">
          {notice}
        </p>
      )}
      <label>
        E-mail
        <input data-testid="user-new-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label>
        Name
        <input data-testid="user-new-name" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Role
        <select data-testid="user-new-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </label>
      <label>
        First password
        <input
          data-testid="user-new-password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      <button
        type="submit"
        className="button button-primary"
        data-testid="user-new-submit"
        disabled={!email.trim() || !name.trim() || !password}
      >
        Add user
      </button>
    </form>
  );
}
