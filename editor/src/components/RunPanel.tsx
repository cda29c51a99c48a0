import { emptyRunCounts, type RunDetail, type RunEstimate } from '@sluice/shared';
import { canRetry } from '../hooks/useRetry';
import type { RunActions } from '../hooks/useRunActions';
import { estimateTooltip, formatEta, runButtonEstimate } from '../lib/estimate';
import { formatDuration, formatTimestamp, isFinalStatus, runDuration, shortId } from '../lib/format';
import { describeWaiting } from '../lib/waiting';
import { useCan } from '../session';
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
  /** The estimated duration of a run of the flow as it is, shown on the Run button. */
  estimate?: RunEstimate;
}

/** Run and Cancel, and the state of the run being shown: status, counts, duration, batches, error. */
export function RunPanel({ runId, run, status, pollError, actions, canRun, estimate }: Props) {
  const finished = isFinalStatus(status);
  const active = runId !== null && status !== null && !finished;
  const duration = run ? runDuration(run.startedAt, run.finishedAt) : null;
  const batchesDone = run?.batches.filter((b) => b.finishedAt !== null).length ?? 0;
  const batchesOpen = (run?.batches.length ?? 0) - batchesDone;
  const about = estimate ? runButtonEstimate(estimate) : null;
  // run control is the operator's and up; a viewer sees the run, not the buttons
  const can = useCan();

  return (
    <section className="dock-run" aria-label="Run">
      {can('runs.control') && (
        <div className="run-actions">
          <button
            type="button"
            className="button button-primary"
            data-testid="run-button"
            onClick={actions.start}
            disabled={actions.starting || !canRun}
            title={estimate ? estimateTooltip(estimate) : undefined}
          >
            {actions.starting ? 'Starting…' : about ? `Run · ${about}` : 'Run'}
          </button>
          {active && runId && status === 'running' && (
            <button
              type="button"
              className="button"
              data-testid="pause-button"
              onClick={() => actions.pause(runId)}
              disabled={actions.busy !== null}
            >
              Pause
            </button>
          )}
          {active && runId && status === 'paused' && (
            <button
              type="button"
              className="button"
              data-testid="resume-button"
              onClick={() => actions.resume(runId)}
              disabled={actions.busy !== null}
            >
              Resume
            </button>
          )}
          {runId && canRetry(run, finished) && (
            <button
              type="button"
              className="button"
              data-testid="retry-button"
              title="Start a run that feeds only the failed records into the nodes where they failed"
              onClick={() => actions.retry(runId)}
              disabled={actions.busy !== null}
            >
              {actions.busy === 'retry' ? 'Retrying…' : `Retry ${run?.counts.failed} failed`}
            </button>
          )}
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
      )}
      {actions.error && <ErrorMessage message={actions.error} />}
      {runId === null ? (
        <p className="muted">
          {can('runs.control')
            ? 'Press Run to start this flow, or pick one of its recent runs.'
            : 'Pick one of its recent runs.'}
        </p>
      ) : (
        <div className="run-detail">
          <div className="run-head">
            {status && <StatusBadge status={status} testId="run-status" />}
            <span className="run-id" title={`Run id ${runId}`}>
              {run?.runNumber ? (
                <>
                  <span data-testid="run-number">Run {run.runNumber} of this flow</span>{' '}
                  <span className="muted mono">#{shortId(runId)}</span>
                </>
              ) : (
                `Run ${shortId(runId)}`
              )}
            </span>
            {run?.eta && !finished && (
              <span
                className="run-eta"
                data-testid="run-eta"
                title={`Expected to finish at ${formatTimestamp(run.eta.at)}: ${run.eta.records.toLocaleString('en-US')} records in all${run.eta.recordsPerSecond ? `, ${Math.round(run.eta.recordsPerSecond).toLocaleString('en-US')} records/s lately` : ''}, plus the waits of delays`}
              >
                ETA {formatEta(run.eta.remainingMs)}
              </span>
            )}
          </div>
          {pollError && <ErrorMessage title="Could not load the run." message={pollError} />}
          {run?.waiting && !finished && (
            <p className="run-waiting" data-testid="run-waiting">
              {describeWaiting(run.waiting)}
            </p>
          )}
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
            {run?.executor && (
              <>
                <dt>Executed by</dt>
                <dd
                  data-testid="run-executor"
                  title="The process that executes the run (host/process id/lease id); a run taken over by another process after its executor died or was cut off names the last"
                >
                  <span className="mono">{run.executor}</span>
                  {run.claims > 1 && <span className="muted"> (taken over {run.claims - 1}×)</span>}
                </dd>
              </>
            )}
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
                  {run.retryOf ? ` · retries run ${run.retryOf}` : ''}
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
