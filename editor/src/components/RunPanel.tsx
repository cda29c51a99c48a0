import { emptyRunCounts, type RunDetail } from '@sluice/shared';
import type { RunActions } from '../hooks/useRunActions';
import { formatDuration, formatTimestamp, isFinalStatus, runDuration, shortId } from '../lib/format';
import { ErrorMessage } from './ErrorMessage';
import { RunCounts } from './RunCounts';
import { StatusBadge } from './StatusBadge';

interface Props {
  runId: string | null;
  run: RunDetail | undefined;
  status: string | null;
  pollError: string | null;
  actions: RunActions;
  canRun: boolean;
}

/** Run and Cancel, and the state of the run being shown: status, counts, duration, batches, error. */
export function RunPanel({ runId, run, status, pollError, actions, canRun }: Props) {
  const finished = isFinalStatus(status);
  const active = runId !== null && status !== null && !finished;
  const duration = run ? runDuration(run.startedAt, run.finishedAt) : null;
  const batchesDone = run?.batches.filter((b) => b.finishedAt !== null).length ?? 0;
  const batchesOpen = (run?.batches.length ?? 0) - batchesDone;

  return (
    <section className="dock-run" aria-label="Run">
      <div className="run-actions">
        <button
          type="button"
          className="button button-primary"
          data-testid="run-button"
          onClick={actions.start}
          disabled={actions.starting || !canRun}
        >
          {actions.starting ? 'Starting…' : 'Run'}
        </button>
        {active && runId && (
          <button
            type="button"
            className="button button-danger"
            data-testid="cancel-button"
            onClick={() => actions.cancel(runId)}
            disabled={actions.cancelling === runId}
          >
            {actions.cancelling === runId ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
      </div>
      {actions.error && <ErrorMessage message={actions.error} />}
      {runId === null ? (
        <p className="muted">Press Run to start this flow, or pick one of its recent runs.</p>
      ) : (
        <div className="run-detail">
          <div className="run-head">
            {status && <StatusBadge status={status} testId="run-status" />}
            <span className="run-id" title={runId}>
              Run {shortId(runId)}
            </span>
          </div>
          {pollError && <ErrorMessage title="Could not load the run." message={pollError} />}
          <RunCounts counts={run?.counts ?? emptyRunCounts()} finished={finished} />
          <dl className="facts">
            <dt>Duration</dt>
            <dd data-testid="run-duration">{duration === null ? '–' : formatDuration(duration)}</dd>
            <dt>Batches</dt>
            <dd data-testid="run-batches">
              {run && run.batches.length === 0
                ? '–'
                : `${batchesDone} done${batchesOpen > 0 ? `, ${batchesOpen} in progress` : ''}`}
            </dd>
            <dt>Started</dt>
            <dd>{formatTimestamp(run?.startedAt ?? null)}</dd>
            {run?.finishedAt && (
              <>
                <dt>Finished</dt>
                <dd>{formatTimestamp(run.finishedAt)}</dd>
              </>
            )}
            {run && (
              <>
                <dt>Trigger</dt>
                <dd>
                  {run.trigger}
                  {run.flowVersion !== null ? ` · flow v${run.flowVersion}` : ''}
                </dd>
              </>
            )}
          </dl>
          {run?.error && (
            <div className="run-error" role="alert" data-testid="run-error">
              <strong>The run {run.status === 'failed' ? 'failed' : 'reported an error'}:</strong> {run.error}
            </div>
          )}
        </div>
      )}
    </section>
  );
}
