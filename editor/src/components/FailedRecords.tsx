import type { RecordOutcomeView } from '@sluice/shared';
import type { FailedRecordsState } from '../hooks/useFailedRecords';
import { useCan } from '../session';
import { ErrorMessage } from './ErrorMessage';

interface Props {
  records: FailedRecordsState;
  finished: boolean;
  failedCount: number;
  selected: RecordOutcomeView | null;
  nodeLabel: (nodeId: string) => string;
  onSelect: (record: RecordOutcomeView) => void;
  /** Once the run has finished: failed records picked (by seq) to retry together, and those edited. */
  pick?: {
    picked: ReadonlySet<number>;
    edited: ReadonlySet<number>;
    onToggle: (seq: number) => void;
    onRetry: () => void;
  };
}

const sameRecord = (a: RecordOutcomeView | null, b: RecordOutcomeView) =>
  a !== null && a.runId === b.runId && a.seq === b.seq;

/** The failed records of the shown run; a row opens the record. */
export function FailedRecords({ records, finished, failedCount, selected, nodeLabel, onSelect, pick }: Props) {
  const can = useCan();
  const { items, nextCursor, loading, error, loadMore } = records;
  return (
    <section className="failed-records" aria-label="Failed records">
      <div className="section-title">
        <span>Failed records</span>
        <span className="section-count">{failedCount}</span>
      </div>
      {pick && pick.picked.size > 0 && can('runs.control') && (
        <button
          type="button"
          className="button button-small failed-retry-picked"
          data-testid="retry-picked"
          onClick={pick.onRetry}
        >
          Retry {pick.picked.size} selected
        </button>
      )}
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
                {pick && (
                  <th className="pick-cell">
                    <span className="visually-hidden">Retry</span>
                  </th>
                )}
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
                  {pick && (
                    <td className="pick-cell">
                      <input
                        type="checkbox"
                        data-testid="pick-record"
                        aria-label={`Retry ${record.key}`}
                        checked={pick.picked.has(record.seq)}
                        onClick={(e) => e.stopPropagation()}
                        onChange={() => pick.onToggle(record.seq)}
                      />
                    </td>
                  )}
                  <td className="mono">
                    {/* The row handles the click; the button makes the row reachable from the keyboard. */}
                    <button type="button" className="row-button">
                      {record.key}
                    </button>
                    {pick?.edited.has(record.seq) && (
                      <span className="edited-badge" title="Its payload was edited: the retry sends the edit">
                        edited
                      </span>
                    )}
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
