import { useCan } from '../../session';
import './connections.css';
import { HTTP_STATUS } from '@sluice/shared';
import { type ReactNode, useState } from 'react';
import { ApiClientError, describeError, useApi } from '../../api';
import { useAsync } from '../../hooks/useAsync';
import { formatTimestamp, formatWhen } from '../../lib/format';
import { ErrorMessage } from '../ErrorMessage';
import { ConnectionForm } from './ConnectionForm';
import {
  type ConnectionStatus,
  type ConnectionView,
  describeAuth,
  describeBreaker,
  describeLimits,
  newerStatus,
} from './form';

interface Props {
  onClose?: () => void;
}

/** The form shown: none, a new connection, or the stored one named. */
type FormMode = { kind: 'closed' } | { kind: 'new' } | { kind: 'edit'; name: string };

/**
 * Connections to outside systems: each with its base URL, auth, masked secret and last status;
 * test one, create, edit or delete stored ones (built-in ones are read-only).
 */
export function ConnectionsPanel({ onClose }: Props) {
  const api = useApi();
  const list = useAsync('connections', (signal) => api.call('listConnections', { signal }), true);
  const [form, setForm] = useState<FormMode>({ kind: 'closed' });
  // a role that may not change connections sees them, secrets masked, without the buttons that change them
  const canEdit = useCan()('connections.write');
  const [notice, setNotice] = useState<string | null>(null);
  /** Results of tests run here, kept so a built-in connection's result (not stored) stays shown. */
  const [tested, setTested] = useState<Record<string, ConnectionStatus>>({});

  const items = list.data?.items;
  const editing = form.kind === 'edit' ? (items?.find((c) => c.name === form.name) ?? null) : null;

  const closeForm = () => setForm({ kind: 'closed' });
  const saved = (c: ConnectionView) => {
    setForm({ kind: 'closed' });
    setNotice(`Saved “${c.name}”.`);
    list.reload();
  };
  const deleted = (name: string) => {
    setNotice(`Deleted “${name}”.`);
    if (form.kind === 'edit' && form.name === name) setForm({ kind: 'closed' });
    setTested(({ [name]: _, ...rest }) => rest);
    list.reload();
  };

  return (
    <section className="connections-panel" data-testid="connections-panel" aria-label="Connections">
      <div className="side-head connections-head">
        <h2>Connections</h2>
        <span className="toolbar-gap" />
        {form.kind === 'closed' && canEdit && (
          <button
            type="button"
            className="button button-small button-primary"
            data-testid="connection-new"
            onClick={() => {
              setNotice(null);
              setForm({ kind: 'new' });
            }}
          >
            New connection
          </button>
        )}
        {onClose && (
          <button
            type="button"
            className="button button-small"
            data-testid="connections-close"
            onClick={onClose}
            aria-label="Close connections"
          >
            Close
          </button>
        )}
      </div>

      {form.kind === 'new' && <ConnectionForm onSaved={saved} onCancel={closeForm} />}
      {form.kind === 'edit' && !editing && !list.loading && (
        <div className="connections-gone" role="alert">
          <span className="error-text">“{form.name}” is no longer there; it may have been deleted elsewhere.</span>
          <button type="button" className="button button-small" onClick={closeForm}>
            Close
          </button>
        </div>
      )}

      {notice && form.kind === 'closed' && (
        <p className="connections-notice" role="status" data-testid="connections-notice">
          {notice}
        </p>
      )}

      {list.error && (
        <ErrorMessage title="Could not load the connections." message={list.error} onRetry={list.reload} />
      )}
      {list.loading && !items && (
        <p className="muted connections-loading" data-testid="connections-loading">
          Loading connections…
        </p>
      )}
      {items && items.length === 0 && (
        <div className="connections-empty" data-testid="connections-empty">
          <p>No connections yet.</p>
          <p className="muted">
            A connection holds the base URL and credentials of an outside system, so flows can call it by name.
          </p>
        </div>
      )}
      {items && items.length > 0 && (
        <ul className="plain-list connections-list">
          {items.map((c) => (
            <ConnectionRow
              key={c.name}
              connection={c}
              status={newerStatus(c.status, tested[c.name])}
              isEditing={form.kind === 'edit' && form.name === c.name}
              editForm={
                editing?.name === c.name && (
                  <ConnectionForm key={c.name} original={editing} onSaved={saved} onCancel={closeForm} />
                )
              }
              onTested={(s) => setTested((t) => ({ ...t, [c.name]: s }))}
              onEdit={() => {
                setNotice(null);
                setForm({ kind: 'edit', name: c.name });
              }}
              onDeleted={() => deleted(c.name)}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

interface RowProps {
  connection: ConnectionView;
  status: ConnectionStatus | null;
  isEditing: boolean;
  /** The edit form, shown inside the row while it is open. */
  editForm: ReactNode;
  onTested: (status: ConnectionStatus) => void;
  onEdit: () => void;
  onDeleted: () => void;
}

function ConnectionRow({ connection: c, status, isEditing, editForm, onTested, onEdit, onDeleted }: RowProps) {
  const [testing, setTesting] = useState(false);
  const [testError, setTestError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const canEdit = useCan()('connections.write');
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const api = useApi();
  const params = { name: c.name };

  const test = () => {
    setTesting(true);
    setTestError(null);
    api.call('checkConnection', { params }).then(
      (s) => {
        setTesting(false);
        if (s) onTested(s);
        else setTestError('The server answered without a status.');
      },
      (e: unknown) => {
        setTesting(false);
        setTestError(describeError(e));
      },
    );
  };

  const remove = () => {
    setDeleting(true);
    setDeleteError(null);
    api.call('deleteConnection', { params }).then(
      () => onDeleted(),
      (e: unknown) => {
        // Already gone is as good as deleted.
        if (e instanceof ApiClientError && e.status === HTTP_STATUS.NOT_FOUND) {
          onDeleted();
          return;
        }
        setDeleting(false);
        setDeleteError(describeError(e));
      },
    );
  };

  return (
    <li
      className={`connection-row${isEditing ? ' is-editing' : ''}`}
      data-testid="connection-row"
      data-name={c.name}
      data-built-in={c.builtIn ? 'true' : undefined}
    >
      <div className="connection-row-head">
        <strong className="connection-name mono" title={c.name}>
          {c.name}
        </strong>
        {c.builtIn && (
          <span className="badge" data-testid="connection-built-in" title="Built in: cannot be edited or deleted">
            built in
          </span>
        )}
        <span className="toolbar-gap" />
        {canEdit && (
          <button
            type="button"
            className="button button-small"
            data-testid="connection-test"
            onClick={test}
            disabled={testing}
            title="Call the system with these credentials"
          >
            {testing ? 'Testing…' : 'Test'}
          </button>
        )}
        {!c.builtIn && canEdit && (
          <>
            <button
              type="button"
              className="button button-small"
              data-testid="connection-edit"
              onClick={onEdit}
              disabled={isEditing || deleting}
            >
              Edit
            </button>
            <button
              type="button"
              className="button button-small button-danger"
              data-testid="connection-delete"
              onClick={() => {
                setDeleteError(null);
                setConfirming(true);
              }}
              disabled={confirming || deleting}
            >
              Delete
            </button>
          </>
        )}
      </div>

      <dl className="connection-facts">
        <dt>URL</dt>
        <dd className="mono connection-url" title={c.baseUrl}>
          {c.baseUrl}
        </dd>
        <dt>Auth</dt>
        <dd data-testid="connection-auth-shown">{describeAuth(c)}</dd>
        {c.oauth2 && (
          <>
            <dt>Token URL</dt>
            <dd className="mono connection-url" title={c.oauth2.tokenUrl} data-testid="connection-token-url">
              {c.oauth2.tokenUrl}
            </dd>
          </>
        )}
        <dt>Secret</dt>
        <dd className="mono" data-testid="connection-secret-masked">
          {c.secret ?? <span className="muted">none</span>}
        </dd>
        {c.checkPath && (
          <>
            <dt>Check</dt>
            <dd className="mono">{c.checkPath}</dd>
          </>
        )}
        {c.breaker && (
          <>
            <dt>Breaker</dt>
            <dd>{describeBreaker(c.breaker)}</dd>
          </>
        )}
        {(c.limits.maxConcurrent !== null || c.limits.maxPerSecond !== null || c.limits.adaptive) && (
          <>
            <dt>Limits</dt>
            <dd
              data-testid="connection-limits-shown"
              title="Shared by every run and every worker using this connection"
            >
              {describeLimits(c.limits)}
            </dd>
          </>
        )}
      </dl>

      <StatusLine status={status} />
      {testError && (
        <p className="error-text" role="alert" data-testid="connection-test-error">
          Test failed: {testError}
        </p>
      )}

      {confirming && (
        <div className="connection-confirm" role="alertdialog" aria-label={`Delete ${c.name}`}>
          <span>
            Delete <strong className="mono">{c.name}</strong>? Flows that use it will fail until it is added again.
          </span>
          <span className="connection-confirm-actions">
            <button
              type="button"
              className="button button-small button-danger"
              data-testid="connection-delete-confirm"
              onClick={remove}
              disabled={deleting}
            >
              {deleting ? 'Deleting…' : 'Delete'}
            </button>
            <button
              type="button"
              className="button button-small"
              data-testid="connection-delete-cancel"
              onClick={() => setConfirming(false)}
              disabled={deleting}
            >
              Cancel
            </button>
          </span>
        </div>
      )}
      {deleteError && (
        <p className="error-text" role="alert" data-testid="connection-delete-error">
          Could not delete: {deleteError}
        </p>
      )}
      {editForm}
    </li>
  );
}

const STATE_LABELS: Record<string, string> = { ok: 'OK', unauthorized: 'Unauthorized', error: 'Error' };

function StatusLine({ status }: { status: ConnectionStatus | null }) {
  if (!status) {
    return (
      <div className="connection-status" data-testid="connection-status" data-state="unknown">
        <span className="connection-dot" aria-hidden="true" />
        <span className="muted">Not tested yet</span>
      </div>
    );
  }
  const known = status.state in STATE_LABELS ? status.state : 'error';
  return (
    <div className="connection-status" data-testid="connection-status" data-state={status.state}>
      <span className={`connection-dot is-${known}`} aria-hidden="true" />
      <span className={`connection-state is-${known}`}>{STATE_LABELS[status.state] ?? status.state}</span>
      <time className="muted" dateTime={status.checkedAt} title={formatTimestamp(status.checkedAt)}>
        {formatWhen(status.checkedAt)}
      </time>
      {status.message && (
        <span className="connection-status-message" title={status.message}>
          {status.message}
        </span>
      )}
    </div>
  );
}
