import { useState } from 'react';
import { useApi } from '../../api';
import { useAsync } from '../../hooks/useAsync';
import type { ErrorGroup } from '../../lib/history/queries';
import { HistoryError, HistoryNote } from './states';
import './history.css';

export interface ErrorGroupsProps {
  /** The run whose failed records are grouped. */
  runId: string;
  /** A node's display name (its label, or the id). */
  nodeLabel: (nodeId: string) => string;
  /** Called with a sample record key when it is clicked (e.g. to search the records table or open its timeline). */
  onPickKey: (key: string) => void;
  /** Change it (any new value) to read the groups again; the groups on screen stay until the answer. */
  refreshKey?: string | number;
}

/** How many groups to ask for (the most frequent first). */
const GROUP_LIMIT = 100;

interface Loaded {
  runId: string;
  items: ErrorGroup[];
}

function GroupRow({
  group,
  widest,
  nodeLabel,
  onPickKey,
}: {
  group: ErrorGroup;
  widest: number;
  nodeLabel: (nodeId: string) => string;
  onPickKey: (key: string) => void;
}) {
  const more = group.count - group.sampleKeys.length;
  const details = [group.code, group.httpStatus !== null ? `HTTP ${group.httpStatus}` : null].filter(Boolean);
  return (
    <li className="error-group" data-testid="error-group" data-node-id={group.nodeId}>
      <div className="error-group-count">
        <span className="error-group-number" data-testid="error-group-count">
          {group.count.toLocaleString()}
        </span>
        <span className="error-group-bar" aria-hidden="true">
          <span
            className="error-group-fill"
            style={{ width: `${widest > 0 ? Math.max(4, (100 * group.count) / widest) : 0}%` }}
          />
        </span>
      </div>
      <div className="error-group-body">
        <div className="error-group-head">
          <span className="error-group-node" title={group.nodeId}>
            {nodeLabel(group.nodeId)}
          </span>
          {details.length > 0 && <span className="muted small">{details.join(' · ')}</span>}
        </div>
        <p className="error-group-message" data-testid="error-group-message">
          {group.message}
        </p>
        {group.sampleKeys.length > 0 && (
          <div className="error-group-keys">
            <span className="muted small">e.g.</span>
            {group.sampleKeys.map((key) => (
              <button
                key={key}
                type="button"
                className="history-key-button mono"
                data-testid="error-group-key"
                title={`Show record ${key}`}
                onClick={() => onPickKey(key)}
              >
                {key}
              </button>
            ))}
            {more > 0 && <span className="muted small">and {more.toLocaleString()} more</span>}
          </div>
        )}
      </div>
    </li>
  );
}

/** The failed records of a run grouped by error and node, most frequent first, with a few keys of each. */
export function ErrorGroups({ runId, nodeLabel, onPickKey, refreshKey }: ErrorGroupsProps) {
  const api = useApi();
  const state = useAsync<Loaded>(
    `${runId}\u0000${refreshKey ?? ''}`,
    async (signal) => ({
      runId,
      items: (await api.call('errorGroups', { params: { id: runId }, query: { limit: GROUP_LIMIT }, signal })).items,
    }),
    true,
  );
  // Groups kept from another run while this one loads are not shown.
  const groups = state.data?.runId === runId ? state.data.items : undefined;
  const [showAll, setShowAll] = useState(false);
  const widest = groups?.reduce((max, g) => Math.max(max, g.count), 0) ?? 0;
  const total = groups?.reduce((sum, g) => sum + g.count, 0) ?? 0;
  const shown = groups && !showAll ? groups.slice(0, 20) : groups;

  return (
    <section className="history-panel error-groups" data-testid="error-groups" aria-label="Errors">
      <div className="history-toolbar">
        <span className="muted small">
          {groups && groups.length > 0 && (
            <>
              {total.toLocaleString()} failed record{total === 1 ? '' : 's'} in {groups.length}
              {groups.length >= GROUP_LIMIT ? '+' : ''} group{groups.length === 1 ? '' : 's'}
            </>
          )}
          {groups && state.loading && ' · updating…'}
        </span>
        <button type="button" className="link-button" onClick={state.reload} disabled={state.loading}>
          Reload
        </button>
      </div>
      {state.error && (
        <HistoryError
          title={groups ? 'Could not update the errors.' : 'Could not load the errors.'}
          message={state.error}
          onRetry={state.reload}
          retrying={state.loading}
        />
      )}
      {!groups && state.loading && <HistoryNote kind="loading">Loading errors…</HistoryNote>}
      {groups && groups.length === 0 && (
        <HistoryNote kind="empty" testId="error-groups-empty">
          No record failed in this run.
        </HistoryNote>
      )}
      {shown && shown.length > 0 && (
        <ul className="error-group-list">
          {shown.map((group) => (
            <GroupRow
              key={`${group.nodeId}\u0000${group.message}\u0000${group.code ?? ''}\u0000${group.httpStatus ?? ''}`}
              group={group}
              widest={widest}
              nodeLabel={nodeLabel}
              onPickKey={onPickKey}
            />
          ))}
        </ul>
      )}
      {groups && shown && groups.length > shown.length && (
        <button type="button" className="button button-small history-more" onClick={() => setShowAll(true)}>
          Show {groups.length - shown.length} more groups
        </button>
      )}
    </section>
  );
}
