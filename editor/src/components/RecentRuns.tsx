import type { RunSummary } from '@sluice/shared';
import { formatDuration, formatTimestamp, formatWhen, runDuration } from '../lib/format';
import { ErrorMessage } from './ErrorMessage';
import { Section } from './Section';
import { StatusBadge } from './StatusBadge';

interface Props {
  runs: RunSummary[] | undefined;
  loading: boolean;
  error: string | null;
  selectedRunId: string | null;
  onSelect: (runId: string) => void;
  onReload: () => void;
}

function describeCounts(run: RunSummary): string {
  const parts = [`${run.counts.read} read`];
  if (run.counts.failed > 0) parts.push(`${run.counts.failed} failed`);
  if (run.counts.filtered > 0) parts.push(`${run.counts.filtered} filtered`);
  return parts.join(' · ');
}

/** The latest runs of the open flow; picking one shows it in the run panel. */
export function RecentRuns({ runs, loading, error, selectedRunId, onSelect, onReload }: Props) {
  return (
    <Section
      id="runs"
      title="Recent runs"
      actions={
        <button type="button" className="link-button" onClick={onReload} disabled={loading}>
          Reload
        </button>
      }
    >
      {error && <ErrorMessage title="Could not load the runs." message={error} onRetry={onReload} />}
      {!runs && loading && <p className="muted">Loading runs…</p>}
      {runs && runs.length === 0 && <p className="muted">This flow has not run yet.</p>}
      {runs && runs.length > 0 && (
        <ul className="run-list">
          {runs.map((run) => {
            const duration = runDuration(run.startedAt, run.finishedAt);
            return (
              <li key={run.id}>
                <button
                  type="button"
                  className={`run-list-item${run.id === selectedRunId ? ' is-active' : ''}`}
                  data-testid="recent-run"
                  aria-current={run.id === selectedRunId ? 'true' : undefined}
                  onClick={() => onSelect(run.id)}
                >
                  <span className="run-list-top">
                    <StatusBadge status={run.status} />
                    {run.runNumber !== null && (
                      <span className="run-list-number" title={`Run id ${run.id}`}>
                        Run {run.runNumber}
                      </span>
                    )}
                    <span className="run-list-time" title={formatTimestamp(run.createdAt)}>
                      {formatWhen(run.createdAt)}
                    </span>
                  </span>
                  <span className="run-list-bottom">
                    <span>{describeCounts(run)}</span>
                    {duration !== null && run.finishedAt && <span>{formatDuration(duration)}</span>}
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </Section>
  );
}
