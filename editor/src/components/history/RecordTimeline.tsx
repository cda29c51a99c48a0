import type { RecordOutcomeView } from '@sluice/shared';
import { type FormEvent, useEffect, useState } from 'react';
import { useApi } from '../../api';
import { useAsync } from '../../hooks/useAsync';
import { formatTimestamp, prettyJson } from '../../lib/format';
import { StatusBadge } from '../StatusBadge';
import { HistoryError, HistoryNote } from './states';
import './history.css';

export interface RecordTimelineProps {
  /** The flow whose runs are searched. */
  flowId: string;
  /** A key to show at once (and whenever this prop changes), e.g. one picked in the records table. */
  initialKey?: string;
  /** Called with a run's id when its link is clicked. */
  onOpenRun: (runId: string) => void;
  /** A node's display name (its label, or the id); the id when not given. */
  nodeLabel?: (nodeId: string) => string;
  /** Changes when a run ends: the history shown is read again. */
  refreshKey?: string;
}

/** How many outcomes to ask for, newest run first. */
const TIMELINE_LIMIT = 100;

const sameNode = (id: string) => id;

/** The stored payload, rendered only once opened (payloads can be large). */
function Payload({ entry }: { entry: RecordOutcomeView }) {
  const [open, setOpen] = useState(false);
  if (entry.payload === null || entry.payload === undefined) {
    return <p className="muted small timeline-no-payload">No payload stored (only failed records keep theirs).</p>;
  }
  return (
    <details
      className="timeline-payload"
      data-testid="record-timeline-payload"
      onToggle={(e) => setOpen(e.currentTarget.open)}
    >
      <summary>
        Payload
        {entry.payloadTruncated && (
          <span className="muted small">
            {' '}
            (cut to {entry.payloadTruncated.cap.toLocaleString()} of {entry.payloadTruncated.bytes.toLocaleString()}{' '}
            characters)
          </span>
        )}
      </summary>
      {open && (
        <pre className="json">
          {/* A cut payload is the start of its JSON text. */}
          {entry.payloadTruncated && typeof entry.payload === 'string'
            ? `${entry.payload}…`
            : prettyJson(entry.payload)}
        </pre>
      )}
    </details>
  );
}

function Entry({
  entry,
  nodeLabel,
  onOpenRun,
}: {
  entry: RecordOutcomeView;
  nodeLabel: (nodeId: string) => string;
  onOpenRun: (runId: string) => void;
}) {
  const { error } = entry;
  return (
    <li
      className={`timeline-entry timeline-${entry.status}`}
      data-testid="record-timeline-entry"
      data-run-id={entry.runId}
      data-status={entry.status}
    >
      <span className="timeline-dot" aria-hidden="true" />
      <div className="timeline-content">
        <div className="timeline-head">
          <button
            type="button"
            className="link-button mono"
            data-testid="record-timeline-run"
            title={`Show run ${entry.runId}`}
            onClick={() => onOpenRun(entry.runId)}
          >
            Run #{entry.runId}
          </button>
          <StatusBadge status={entry.status} />
          <span className="timeline-time">{formatTimestamp(entry.at)}</span>
        </div>
        <div className="timeline-facts small">
          <span title={entry.nodeId}>
            <span className="muted">at</span> {nodeLabel(entry.nodeId)}
          </span>
          <span>
            {entry.attempts} attempt{entry.attempts === 1 ? '' : 's'}
          </span>
          <span className="muted">
            batch {entry.batchNo} · seq {entry.seq}
          </span>
        </div>
        {error && (
          <p className="timeline-error">
            {error.message}
            {(error.code || error.httpStatus != null) && (
              <span className="timeline-error-code">
                {[error.code, error.httpStatus != null ? `HTTP ${error.httpStatus}` : null].filter(Boolean).join(' · ')}
              </span>
            )}
          </p>
        )}
        <Payload entry={entry} />
      </div>
    </li>
  );
}

/**
 * What happened to one record key in every run of a flow, newest run first: enter a key (Enter or Show)
 * and see, for each run, its status, node, attempts, error and stored payload.
 */
export function RecordTimeline({
  flowId,
  initialKey,
  onOpenRun,
  nodeLabel = sameNode,
  refreshKey = '',
}: RecordTimelineProps) {
  const api = useApi();
  const [input, setInput] = useState(initialKey ?? '');
  const [key, setKey] = useState((initialKey ?? '').trim());

  useEffect(() => {
    if (initialKey === undefined) return;
    setInput(initialKey);
    setKey(initialKey.trim());
  }, [initialKey]);

  const state = useAsync(key === '' ? null : `${flowId}\u0000${key}\u0000${refreshKey}`, (signal) =>
    api.call('recordHistory', { params: { id: flowId, key }, query: { limit: TIMELINE_LIMIT }, signal }),
  );
  const entries = state.data?.items;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const wanted = input.trim();
    if (wanted === key) state.reload();
    else setKey(wanted);
  };

  return (
    <section className="history-panel record-timeline" data-testid="record-timeline" aria-label="Record timeline">
      <form className="history-filters" onSubmit={submit}>
        <label className="history-field history-field-grow">
          <span>Record key</span>
          <input
            type="search"
            data-testid="record-timeline-key"
            placeholder="e.g. ORD-1042"
            value={input}
            maxLength={1000}
            onChange={(e) => setInput(e.target.value)}
          />
        </label>
        <button type="submit" className="button button-small" disabled={input.trim() === ''}>
          Show
        </button>
      </form>
      {key === '' && (
        <HistoryNote kind="hint" testId="record-timeline-hint">
          Enter a record key to see what happened to it in every run of this flow.
        </HistoryNote>
      )}
      {state.loading && <HistoryNote kind="loading">Loading the history of {key}…</HistoryNote>}
      {state.error && (
        <HistoryError title="Could not load the record's history." message={state.error} onRetry={state.reload} />
      )}
      {entries && entries.length === 0 && (
        <HistoryNote kind="empty" testId="record-timeline-empty">
          No run of this flow has an outcome for the key <code>{key}</code> (or retention removed them).
        </HistoryNote>
      )}
      {entries && entries.length > 0 && (
        <>
          <p className="muted small">
            {entries.length >= TIMELINE_LIMIT
              ? `The newest ${TIMELINE_LIMIT} outcomes of `
              : `${entries.length} outcome${entries.length === 1 ? '' : 's'} of `}
            <code>{key}</code>, newest first
          </p>
          <ol className="timeline">
            {entries.map((entry) => (
              <Entry key={`${entry.runId}:${entry.seq}`} entry={entry} nodeLabel={nodeLabel} onOpenRun={onOpenRun} />
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
