import type { AuditEntry } from '@sluice/shared';
import { useState } from 'react';
import { describeError, useApi } from '../../api';
import { useAsync } from '../../hooks/useAsync';
import {
  AUDIT_OBJECT_TYPES,
  type AuditFilters,
  auditQuery,
  describeActor,
  describeSummary,
  NO_FILTERS,
} from '../../lib/audit';
import { formatTimestamp, formatWhen } from '../../lib/format';
import { ErrorMessage } from '../ErrorMessage';
import './audit.css';

const PAGE = 50;

/**
 * The audit log: who changed what, when and from where, newest first. Filters apply when submitted;
 * "Load more" follows the API's cursor. Clicking an actor or an object filters on it.
 */
export function AuditScreen() {
  const api = useApi();
  const [form, setForm] = useState<AuditFilters>(NO_FILTERS);
  const [applied, setApplied] = useState<AuditFilters>(NO_FILTERS);
  const [more, setMore] = useState<{ key: string; items: AuditEntry[]; cursor: string | null } | null>(null);
  const [moreError, setMoreError] = useState<string | null>(null);
  const key = JSON.stringify(applied);
  const first = useAsync(`audit\u0000${key}`, (signal) =>
    api.call('listAudit', { query: { ...auditQuery(applied), limit: PAGE }, signal }),
  );
  const extra = more?.key === key ? more : null;
  const items = [...(first.data?.items ?? []), ...(extra?.items ?? [])];
  const cursor = extra ? extra.cursor : (first.data?.nextCursor ?? null);

  const apply = (next: AuditFilters) => {
    setForm(next);
    setApplied(next);
    setMore(null);
    setMoreError(null);
  };
  const loadMore = async () => {
    if (!cursor) return;
    try {
      const page = await api.call('listAudit', {
        query: { ...auditQuery(applied), limit: PAGE, cursor },
      });
      setMore({ key, items: [...(extra?.items ?? []), ...page.items], cursor: page.nextCursor });
      setMoreError(null);
    } catch (err) {
      setMoreError(describeError(err));
    }
  };
  const field = (name: keyof AuditFilters) => ({
    value: form[name],
    onChange: (e: { target: { value: string } }) => setForm({ ...form, [name]: e.target.value }),
  });

  return (
    <main className="audit" data-testid="audit-screen" aria-label="Audit log">
      <div className="audit-head">
        <h2 className="audit-title">Audit log</h2>
        <span className="muted small">Who changed what, newest first. Entries cannot be changed or removed.</span>
      </div>
      <form
        className="audit-filters"
        data-testid="audit-filters"
        onSubmit={(e) => {
          e.preventDefault();
          apply(form);
        }}
      >
        <label>
          Action
          <input {...field('action')} placeholder="e.g. flow.saved" data-testid="audit-filter-action" />
        </label>
        <label>
          Object
          <select {...field('objectType')} data-testid="audit-filter-object-type">
            <option value="">any</option>
            {AUDIT_OBJECT_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Object id
          <input {...field('objectId')} data-testid="audit-filter-object-id" />
        </label>
        <label>
          Actor id
          <input {...field('actor')} placeholder="token id, env" data-testid="audit-filter-actor" />
        </label>
        <label>
          Outcome
          <select {...field('outcome')} data-testid="audit-filter-outcome">
            <option value="">any</option>
            <option value="ok">ok</option>
            <option value="refused">refused</option>
            <option value="failed">failed</option>
          </select>
        </label>
        <label>
          From
          <input type="date" {...field('from')} data-testid="audit-filter-from" />
        </label>
        <label>
          To
          <input type="date" {...field('to')} data-testid="audit-filter-to" />
        </label>
        <button type="submit" className="button button-small button-primary" data-testid="audit-apply">
          Filter
        </button>
        {key !== JSON.stringify(NO_FILTERS) && (
          <button type="button" className="button button-small" onClick={() => apply(NO_FILTERS)}>
            Clear
          </button>
        )}
      </form>
      {first.error && (
        <ErrorMessage title="Could not load the audit log." message={first.error} onRetry={first.reload} />
      )}
      {!first.data && !first.error && <p className="muted audit-empty">Loading…</p>}
      {first.data && items.length === 0 && (
        <p className="muted audit-empty" data-testid="audit-empty">
          No entries{key !== JSON.stringify(NO_FILTERS) ? ' match these filters' : ' yet'}.
        </p>
      )}
      {items.length > 0 && (
        <div className="audit-card">
          <table className="table audit-table">
            <thead>
              <tr>
                <th>When</th>
                <th>Who</th>
                <th>Action</th>
                <th>Object</th>
                <th>Change</th>
                <th>Outcome</th>
                <th>From</th>
              </tr>
            </thead>
            <tbody>
              {items.map((e) => (
                <tr key={e.id} data-testid="audit-entry" data-action={e.action} data-outcome={e.outcome}>
                  <td className="audit-when" title={formatTimestamp(e.at)}>
                    {formatWhen(e.at)}
                  </td>
                  <td>
                    <button
                      type="button"
                      className="link-button"
                      title={`${e.actor.kind} ${e.actor.id}: show only this actor`}
                      onClick={() => apply({ ...NO_FILTERS, actor: e.actor.id })}
                    >
                      {describeActor(e.actor)}
                    </button>
                  </td>
                  <td className="mono">{e.action}</td>
                  <td>
                    <span className="muted">{e.objectType}</span>{' '}
                    {e.objectId && (
                      <button
                        type="button"
                        className="link-button mono"
                        title="Show only this object"
                        onClick={() => apply({ ...NO_FILTERS, objectType: e.objectType, objectId: e.objectId ?? '' })}
                      >
                        {e.objectId}
                      </button>
                    )}
                  </td>
                  <td className="audit-summary" title={describeSummary(e.summary)}>
                    {describeSummary(e.summary)}
                  </td>
                  <td>
                    <span className={`audit-outcome audit-outcome-${e.outcome}`} title={e.error ?? undefined}>
                      {e.outcome}
                      {e.error ? ` · ${e.error}` : ''}
                    </span>
                  </td>
                  <td className="muted mono">{e.address ?? '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {moreError && <p className="error-text small">{moreError}</p>}
      {cursor && (
        <button type="button" className="button button-small audit-more" data-testid="audit-more" onClick={loadMore}>
          Load more
        </button>
      )}
    </main>
  );
}
