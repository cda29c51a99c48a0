import type { FlowSummary } from '@sluice/shared';
import { useMemo, useState } from 'react';
import { describeError, useApi } from '../api';
import { useAsync } from '../hooks/useAsync';
import { useCan } from '../session';
import { ConfirmDialog } from './ConfirmDialog';
import { ErrorMessage } from './ErrorMessage';
import { NewFlowMenu } from './NewFlowMenu';
import { Section } from './Section';

interface Props {
  flows: FlowSummary[] | undefined;
  loading: boolean;
  error: string | null;
  selectedId: string | null;
  onSelect: (flowId: string) => void;
  onReload: () => void;
  onCreated: (flowId: string) => void;
  /** The open flow was deleted or archived: open another. */
  onRemoved: (flowId: string) => void;
}

const matches = (flow: FlowSummary, query: string) => {
  const q = query.trim().toLowerCase();
  return !q || flow.name.toLowerCase().includes(q) || (flow.description ?? '').toLowerCase().includes(q);
};

/** The left sidebar: every flow, searchable, the open one marked with its actions; archived flows to restore. */
export function FlowList({ flows, loading, error, selectedId, onSelect, onReload, onCreated, onRemoved }: Props) {
  const api = useApi();
  const can = useCan();
  const [query, setQuery] = useState('');
  const [showArchived, setShowArchived] = useState(false);
  const [deleting, setDeleting] = useState<{ flow: FlowSummary; runs: number | null } | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const archived = useAsync(showArchived ? 'archived-flows' : null, (signal) =>
    api.call('listFlows', { query: { archived: 'true' }, signal }),
  );
  const listed = showArchived ? archived.data?.items : flows;
  const shown = useMemo(() => listed?.filter((f) => matches(f, query)), [listed, query]);

  const fail = (what: string) => (e: unknown) => setActionError(`Could not ${what}: ${describeError(e)}`);
  const duplicate = (flow: FlowSummary) => {
    setActionError(null);
    api.call('duplicateFlow', { params: { id: flow.id } }).then((copy) => onCreated(copy.id), fail('duplicate'));
  };
  const askDelete = (flow: FlowSummary) => {
    setActionError(null);
    setDeleting({ flow, runs: null });
    // whether it has runs decides what deleting does: say it before asking
    api.call('listRuns', { query: { flowId: flow.id, limit: 1 } }).then(
      (page) => setDeleting((d) => (d?.flow.id === flow.id ? { flow, runs: page.items[0]?.runNumber ?? 0 } : d)),
      () => undefined,
    );
  };
  const remove = (flow: FlowSummary) => {
    setDeleting(null);
    api.call('deleteFlow', { params: { id: flow.id } }).then(() => {
      onReload();
      onRemoved(flow.id);
    }, fail('delete'));
  };
  const restore = (flow: FlowSummary) => {
    setActionError(null);
    api.call('restoreFlow', { params: { id: flow.id } }).then(() => {
      archived.reload();
      onReload();
      setShowArchived(false);
      onSelect(flow.id);
    }, fail('restore'));
  };

  return (
    <nav className="sidebar" aria-label="Flows">
      <Section
        id="flows"
        title={showArchived ? 'Archived flows' : 'Flows'}
        count={shown?.length}
        actions={
          <button type="button" className="link-button" onClick={onReload} disabled={loading}>
            Reload
          </button>
        }
      >
        {!showArchived && can('flows.write') && <NewFlowMenu onCreated={onCreated} />}
        <div className="flow-list-tools">
          <input
            type="search"
            className="flow-search"
            placeholder="Search flows"
            aria-label="Search flows"
            data-testid="flow-search"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
          <button
            type="button"
            className={`flow-filter${showArchived ? ' is-active' : ''}`}
            aria-pressed={showArchived}
            data-testid="archived-filter"
            title="Flows deleted while they had runs: their history is kept and they can be restored"
            onClick={() => setShowArchived((v) => !v)}
          >
            Archived
          </button>
        </div>
        {(error || (showArchived && archived.error)) && (
          <ErrorMessage
            title="Could not load the flows."
            message={(showArchived ? archived.error : error) ?? ''}
            onRetry={showArchived ? archived.reload : onReload}
          />
        )}
        {actionError && <ErrorMessage message={actionError} />}
        {!shown && (loading || archived.loading) && <p className="muted">Loading flows…</p>}
        {shown && listed && listed.length === 0 && (
          <p className="muted">{showArchived ? 'No archived flows.' : 'No flows yet.'}</p>
        )}
        {shown && listed && listed.length > 0 && shown.length === 0 && (
          <p className="muted" data-testid="flow-search-empty">
            No flow matches “{query.trim()}”.
          </p>
        )}
        {shown && shown.length > 0 && (
          <ul className="flow-list">
            {shown.map((flow) => {
              const active = !showArchived && flow.id === selectedId;
              return (
                <li key={flow.id} className="flow-list-entry">
                  <button
                    type="button"
                    className={`flow-list-item${active ? ' is-active' : ''}`}
                    data-testid="flow-list-item"
                    aria-current={active ? 'page' : undefined}
                    onClick={() => !showArchived && onSelect(flow.id)}
                    title={flow.description ?? flow.name}
                  >
                    <span className="flow-list-name">{flow.name}</span>
                    {flow.description && <span className="flow-list-description">{flow.description}</span>}
                  </button>
                  {!can('flows.write') ? null : showArchived ? (
                    <div className="flow-list-actions">
                      <button
                        type="button"
                        className="link-button"
                        data-testid="restore-flow"
                        onClick={() => restore(flow)}
                      >
                        Restore
                      </button>
                    </div>
                  ) : (
                    active && (
                      <div className="flow-list-actions">
                        <button
                          type="button"
                          className="link-button"
                          data-testid="duplicate-flow"
                          onClick={() => duplicate(flow)}
                        >
                          Duplicate
                        </button>
                        <button
                          type="button"
                          className="link-button link-danger"
                          data-testid="delete-flow"
                          onClick={() => askDelete(flow)}
                        >
                          Delete…
                        </button>
                      </div>
                    )
                  )}
                </li>
              );
            })}
          </ul>
        )}
        {deleting && (
          <ConfirmDialog
            title={`Delete “${deleting.flow.name}”?`}
            testId="delete-dialog"
            onCancel={() => setDeleting(null)}
            choices={[
              { label: 'Cancel', onChoose: () => setDeleting(null), testId: 'delete-cancel' },
              {
                label: deleting.runs ? 'Archive' : 'Delete',
                kind: 'danger',
                onChoose: () => remove(deleting.flow),
                testId: 'delete-confirm',
              },
            ]}
          >
            {deleting.runs === null ? (
              <p>Checking its runs…</p>
            ) : deleting.runs > 0 ? (
              <p data-testid="delete-explanation">
                It has {deleting.runs} run{deleting.runs === 1 ? '' : 's'}, so it is archived rather than deleted:
                hidden from the list, its schedules and webhooks off, its run history kept. Restore it from “Archived”.
              </p>
            ) : (
              <p data-testid="delete-explanation">It has never run. Its versions are deleted; this cannot be undone.</p>
            )}
          </ConfirmDialog>
        )}
      </Section>
    </nav>
  );
}
