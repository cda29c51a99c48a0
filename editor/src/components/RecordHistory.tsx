import { useRecordHistory } from '../hooks/useRecordHistory';
import { formatTimestamp, shortId } from '../lib/format';
import { ErrorMessage } from './ErrorMessage';
import { StatusBadge } from './StatusBadge';

interface Props {
  flowId: string;
  recordKey: string;
  currentRunId: string | null;
  nodeLabel: (nodeId: string) => string;
  onOpenRun: (runId: string) => void;
  /** Changes when a run ends: the history is read again. */
  refreshKey?: string;
}

/** What happened to one record key in every run of the flow. */
export function RecordHistory({ flowId, recordKey, currentRunId, nodeLabel, onOpenRun, refreshKey }: Props) {
  const history = useRecordHistory(flowId, recordKey, refreshKey);
  return (
    <div className="record-history">
      <h3>History across runs</h3>
      {history.error && (
        <ErrorMessage title="Could not load the history." message={history.error} onRetry={history.reload} />
      )}
      {history.loading && !history.data && <p className="muted">Loading history…</p>}
      {history.data && history.data.length === 0 && <p className="muted">No other outcome is stored for this key.</p>}
      {history.data && history.data.length > 0 && (
        <table className="table compact">
          <thead>
            <tr>
              <th>Run</th>
              <th>Status</th>
              <th>Node</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {history.data.map((entry) => (
              <tr
                key={`${entry.runId}:${entry.seq}`}
                data-testid="history-entry"
                className={entry.runId === currentRunId ? 'is-current' : undefined}
              >
                <td className="mono" title={formatTimestamp(entry.at)}>
                  {entry.runId === currentRunId ? (
                    <span title={entry.runId}>{shortId(entry.runId)} (this run)</span>
                  ) : (
                    <button
                      type="button"
                      className="link-button mono"
                      title={`Show run ${entry.runId}`}
                      onClick={() => onOpenRun(entry.runId)}
                    >
                      {shortId(entry.runId)}
                    </button>
                  )}
                </td>
                <td>
                  <StatusBadge status={entry.status} />
                </td>
                <td className="node-cell" title={entry.nodeId}>
                  {nodeLabel(entry.nodeId)}
                </td>
                <td className="error-cell" title={entry.error?.message}>
                  {entry.error?.message ?? '–'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
