import type { RecordOutcomeView } from '@sluice/shared';
import type { FailedRecordsState } from '../hooks/useFailedRecords';
import { ErrorMessage } from './ErrorMessage';

interface Props {
  records: FailedRecordsState;
  finished: boolean;
  failedCount: number;
  selected: RecordOutcomeView | null;
  nodeLabel: (nodeId: string) => string;
  onSelect: (record: RecordOutcomeView) => void;
}

const sameRecord = (a: RecordOutcomeView | null, b: RecordOutcomeView) =>
  a !== null && a.runId === b.runId && a.seq === b.seq;

/** The failed records of the shown run; a row opens the record. */
export function FailedRecords({ records, finished, failedCount, selected, nodeLabel, onSelect }: Props) {
  const { items, nextCursor, loading, error, loadMore } = records;
  return (
    <section className="failed-records" aria-label="Failed records">
      <div className="section-title">
        <span>Failed records</span>
        <span className="section-count">{failedCount}</span>
      </div>
      {error && <ErrorMessage title="Could not load the failed records." message={error} />}
      {items.length === 0 && !error && (
        <p className="muted">
          {loading
            ? 'Loading failed records…'
            : finished
              ? 'No record failed in this run.'
              : 'No failed records so far.'}
        </p>
      )}
      {items.length > 0 && (
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                <th>Key</th>
                <th>Node</th>
                <th className="numeric">Attempts</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {items.map((record) => (
                <tr
                  key={`${record.runId}:${record.seq}`}
                  className={sameRecord(selected, record) ? 'is-active' : undefined}
                  data-testid="failed-record"
                  onClick={() => onSelect(record)}
                >
                  <td className="mono">
                    {/* The row handles the click; the button makes the row reachable from the keyboard. */}
                    <button type="button" className="row-button">
                      {record.key}
                    </button>
                  </td>
                  <td className="node-cell" title={record.nodeId}>
                    {nodeLabel(record.nodeId)}
                  </td>
                  <td className="numeric">{record.attempts}</td>
                  <td className="error-cell" title={record.error?.message}>
                    {record.error?.message ?? '–'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {nextCursor && (
        <button type="button" className="button button-small load-more" onClick={loadMore} disabled={loading}>
          {loading ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}
