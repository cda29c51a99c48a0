import type { RecordOutcomeView } from '@sluice/shared';
import { useState } from 'react';
import { formatTimestamp, prettyJson } from '../lib/format';
import { PayloadEditor } from './PayloadEditor';
import { RecordHistory } from './RecordHistory';

interface Props {
  flowId: string;
  record: RecordOutcomeView;
  nodeLabel: (nodeId: string) => string;
  onClose: () => void;
  onOpenRun: (runId: string) => void;
  /** Changes when a run ends: the record's history is read again. */
  refreshKey?: string;
  /** For a failed record of a finished run: its payload can be edited and the record retried. */
  retry?: {
    edited: Record<string, unknown> | undefined;
    onEdit: (payload: Record<string, unknown> | undefined) => void;
    onRetry: (payload: Record<string, unknown> | undefined) => void;
  };
}

/** One failed record: where and why it failed, what it carried, and its fate in other runs. */
export function RecordDetail({ flowId, record, nodeLabel, onClose, onOpenRun, refreshKey, retry }: Props) {
  const { error } = record;
  const [editing, setEditing] = useState(false);
  // another record: its payload is shown, not an editor left open for the last one
  const shown = `${record.runId}:${record.seq}`;
  const [editingFor, setEditingFor] = useState(shown);
  if (editingFor !== shown) {
    setEditingFor(shown);
    setEditing(false);
  }
  return (
    <section className="record-detail" data-testid="record-detail" aria-label="Record detail">
      <div className="section-title">
        <span>
          Record <code className="record-key">{record.key}</code>
        </span>
        <button type="button" className="link-button" onClick={onClose}>
          Close
        </button>
      </div>
      <dl className="facts">
        <dt>Key</dt>
        <dd className="mono">{record.key}</dd>
        <dt>Node</dt>
        <dd>
          {nodeLabel(record.nodeId)} <span className="muted">({record.nodeId})</span>
        </dd>
        <dt>Batch</dt>
        <dd>{record.batchNo}</dd>
        <dt>Attempts</dt>
        <dd>{record.attempts}</dd>
        <dt>Status</dt>
        <dd>{record.status}</dd>
        <dt>At</dt>
        <dd>{formatTimestamp(record.at)}</dd>
      </dl>
      {error && (
        <div className="record-error">
          <h3>Error</h3>
          <p className="record-error-message" data-testid="record-error">
            {error.message}
          </p>
          {(error.code || error.httpStatus !== undefined) && (
            <p className="muted small">
              {error.code && <>code {error.code}</>}
              {error.code && error.httpStatus !== undefined && ' · '}
              {error.httpStatus !== undefined && <>HTTP {error.httpStatus}</>}
            </p>
          )}
        </div>
      )}
      <h3>Payload</h3>
      {retry && editing ? (
        <PayloadEditor
          original={record.payload}
          edited={retry.edited}
          onChange={retry.onEdit}
          onRetry={retry.onRetry}
        />
      ) : (
        <>
          <pre className="json" data-testid="record-payload">
            {prettyJson(retry?.edited ?? record.payload)}
          </pre>
          {retry && (
            <div className="payload-editor-actions">
              {retry.edited && <span className="muted">Edited: the retry sends this payload.</span>}
              {!record.payloadTruncated && (
                <button
                  type="button"
                  className="button button-small"
                  data-testid="edit-payload"
                  onClick={() => setEditing(true)}
                >
                  Edit payload
                </button>
              )}
              <button
                type="button"
                className="button button-small"
                data-testid="retry-record"
                onClick={() => retry.onRetry(retry.edited)}
              >
                Retry this record
              </button>
            </div>
          )}
        </>
      )}
      <RecordHistory
        flowId={flowId}
        recordKey={record.key}
        currentRunId={record.runId}
        nodeLabel={nodeLabel}
        onOpenRun={onOpenRun}
        {...(refreshKey !== undefined ? { refreshKey } : {})}
      />
    </section>
  );
}
