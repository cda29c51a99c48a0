import type { RecordOutcomeView } from '@sluice/shared';
import { formatTimestamp, prettyJson } from '../lib/format';
import { RecordHistory } from './RecordHistory';

interface Props {
  flowId: string;
  record: RecordOutcomeView;
  nodeLabel: (nodeId: string) => string;
  onClose: () => void;
  onOpenRun: (runId: string) => void;
}

/** One failed record: where and why it failed, what it carried, and its fate in other runs. */
export function RecordDetail({ flowId, record, nodeLabel, onClose, onOpenRun }: Props) {
  const { error } = record;
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
      <pre className="json" data-testid="record-payload">
        {prettyJson(record.payload)}
      </pre>
      <RecordHistory
        flowId={flowId}
        recordKey={record.key}
        currentRunId={record.runId}
        nodeLabel={nodeLabel}
        onOpenRun={onOpenRun}
      />
    </section>
  );
}
