import type { RunCounts as Counts } from '@sluice/shared';

interface Props {
  counts: Counts;
  finished: boolean;
}

const ITEMS = [
  { key: 'read', label: 'Read' },
  { key: 'succeeded', label: 'Succeeded' },
  { key: 'failed', label: 'Failed' },
  { key: 'filtered', label: 'Filtered' },
] as const;

/** The four record counts of a run, with a bar of how the records read ended up. */
export function RunCounts({ counts, finished }: Props) {
  const done = counts.succeeded + counts.filtered + counts.failed + counts.cancelled;
  const inFlight = Math.max(0, counts.read - done);
  const share = (n: number) => `${counts.read > 0 ? (100 * n) / counts.read : 0}%`;
  return (
    <div className="run-counts">
      <div className="count-grid">
        {ITEMS.map((item) => (
          <div key={item.key} className={`count count-${item.key}`}>
            <span className="count-label">{item.label}</span>
            <span className="count-value" data-testid={`count-${item.key}`}>
              {counts[item.key]}
            </span>
          </div>
        ))}
      </div>
      <div className="progress" aria-hidden="true">
        <span className="progress-succeeded" style={{ width: share(counts.succeeded) }} />
        <span className="progress-filtered" style={{ width: share(counts.filtered) }} />
        <span className="progress-failed" style={{ width: share(counts.failed) }} />
      </div>
      {counts.cancelled > 0 && (
        <p className="muted small" data-testid="count-cancelled">
          {counts.cancelled} read but not processed (the run ended first)
        </p>
      )}
      {inFlight > 0 && !finished && <p className="muted small">{inFlight} in flight</p>}
    </div>
  );
}
