import { RUN_STATUSES, type RunStatus, type RunSummary, TRIGGER_KINDS, type TriggerKind } from '@sluice/shared';
import { memo, useMemo, useState } from 'react';
import { useApi } from '../../api';
import {
  compactCount,
  formatDuration,
  formatTimestamp,
  formatWhen,
  isFinalStatus,
  runDuration,
} from '../../lib/format';
import { localInputToIso, type RunFilters, runsQuery } from '../../lib/history/queries';
import { usePagedList } from '../../lib/history/usePagedVirtualizer';
import { StatusBadge } from '../StatusBadge';
import { HistoryError, HistoryNote } from './states';
import './history.css';

export interface RunsListProps {
  /** The flow whose runs are listed (newest first). */
  flowId: string;
  /** The run to show as selected, or null. */
  selectedRunId: string | null;
  /** Called with the run's id and status when a row is picked. */
  onSelect: (runId: string, status: RunStatus) => void;
  /**
   * Change it (any new value) to read the list again, e.g. when a run starts or finishes. The rows on screen
   * stay until the new ones arrive, and as many rows as are loaded are read again (up to 500), so the scroll
   * position is kept. A change of flow or of a filter starts again from the first page instead.
   */
  refreshKey?: string | number;
}

/** Rows per page read from the server. */
const PAGE_SIZE = 100;
/** The largest page `GET /api/runs` serves. */
const MAX_LIMIT = 500;
/** Every row has this height (px); the stylesheet agrees (.runs-row). */
const ROW_HEIGHT = 52;

function durationText(run: RunSummary): string {
  if (!isFinalStatus(run.status)) return run.startedAt ? 'running…' : 'not started';
  const ms = runDuration(run.startedAt, run.finishedAt);
  return ms === null ? '–' : formatDuration(ms);
}

/** One run; memoised, so that scrolling renders only the rows that come into view. */
const RunRow = memo(function RunRow({
  run,
  selected,
  onSelect,
}: {
  run: RunSummary;
  selected: boolean;
  onSelect: RunsListProps['onSelect'];
}) {
  const started = run.startedAt ?? run.createdAt;
  const { read, succeeded, failed, filtered } = run.counts;
  return (
    <button
      type="button"
      className={`runs-row${selected ? ' is-active' : ''}`}
      data-testid="runs-row"
      data-run-id={run.id}
      data-status={run.status}
      aria-current={selected ? 'true' : undefined}
      onClick={() => onSelect(run.id, run.status)}
    >
      <span className="runs-row-line">
        <span className="runs-row-id" title={`Run id ${run.id}`} data-testid="runs-row-number">
          {run.runNumber !== null ? `Run ${run.runNumber}` : `#${run.id}`}
          {run.runNumber !== null && <span className="muted mono"> #{run.id}</span>}
        </span>
        <StatusBadge status={run.status} />
        <span className="runs-row-trigger">{run.trigger}</span>
        <span className="runs-row-time" title={`${run.startedAt ? 'Started' : 'Created'} ${formatTimestamp(started)}`}>
          {formatWhen(started)}
        </span>
      </span>
      <span className="runs-row-line runs-row-sub">
        <span
          className="runs-row-counts"
          title={`${read} read, ${succeeded} succeeded, ${failed} failed, ${filtered} filtered`}
        >
          <span>
            <span className="runs-count-label">read</span> {compactCount(read)}
          </span>
          <span className="runs-count-ok">
            <span className="runs-count-label">ok</span> {compactCount(succeeded)}
          </span>
          <span className={failed > 0 ? 'runs-count-failed' : undefined}>
            <span className="runs-count-label">failed</span> {compactCount(failed)}
          </span>
          <span>
            <span className="runs-count-label">filtered</span> {compactCount(filtered)}
          </span>
        </span>
        <span className="runs-row-duration">{durationText(run)}</span>
      </span>
    </button>
  );
});

/**
 * The run history of a flow, newest first: filters (status, trigger, time range), a virtualised list that
 * reads further pages from the server as it is scrolled, and a row per run. Fills its parent's height (at least
 * 200 px for the list); give the parent a height.
 */
export function RunsList({ flowId, selectedRunId, onSelect, refreshKey }: RunsListProps) {
  const api = useApi();
  const [status, setStatus] = useState<RunFilters['status']>('');
  const [trigger, setTrigger] = useState<RunFilters['trigger']>('');
  const [fromInput, setFromInput] = useState('');
  const [toInput, setToInput] = useState('');

  const filters: RunFilters = useMemo(
    () => ({ status, trigger, from: localInputToIso(fromInput), to: localInputToIso(toInput) }),
    [status, trigger, fromInput, toInput],
  );
  const filtered = status !== '' || trigger !== '' || filters.from !== '' || filters.to !== '';
  const query = JSON.stringify([flowId, filters]);

  const { pages, scrollRef, virtualizer, rows } = usePagedList<RunSummary>(
    query,
    refreshKey,
    (limit, cursor, signal) => api.call('listRuns', { query: runsQuery(flowId, filters, limit, cursor), signal }),
    ROW_HEIGHT,
    { pageSize: PAGE_SIZE, maxLimit: MAX_LIMIT },
  );

  const clearFilters = () => {
    setStatus('');
    setTrigger('');
    setFromInput('');
    setToInput('');
  };
  const backwards = filters.from !== '' && filters.to !== '' && filters.from >= filters.to;
  const { items } = pages;

  return (
    <section className="history-panel runs-list" data-testid="runs-list" aria-label="Run history">
      <div className="history-filters">
        <label className="history-field">
          <span>Status</span>
          <select
            data-testid="runs-filter-status"
            value={status}
            onChange={(e) => setStatus(e.target.value as RunFilters['status'])}
          >
            <option value="">All</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label className="history-field">
          <span>Trigger</span>
          <select
            data-testid="runs-filter-trigger"
            value={trigger}
            onChange={(e) => setTrigger(e.target.value as TriggerKind | '')}
          >
            <option value="">All</option>
            {TRIGGER_KINDS.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label className="history-field">
          <span>From</span>
          <input
            type="datetime-local"
            data-testid="runs-filter-from"
            value={fromInput}
            max={toInput || undefined}
            onChange={(e) => setFromInput(e.target.value)}
          />
        </label>
        <label className="history-field">
          <span>Until</span>
          <input
            type="datetime-local"
            data-testid="runs-filter-to"
            value={toInput}
            min={fromInput || undefined}
            onChange={(e) => setToInput(e.target.value)}
          />
        </label>
        {filtered && (
          <button type="button" className="link-button history-clear" onClick={clearFilters}>
            Clear filters
          </button>
        )}
      </div>
      <div className="history-toolbar">
        <span className="muted small" data-testid="runs-loaded">
          {items.length > 0 &&
            `${items.length.toLocaleString()}${pages.hasMore ? '+' : ''} run${items.length === 1 && !pages.hasMore ? '' : 's'}`}
          {pages.refreshing && ' · updating…'}
        </span>
        <button
          type="button"
          className="link-button"
          onClick={pages.retry}
          disabled={pages.loading || pages.refreshing}
        >
          Reload
        </button>
      </div>
      {backwards && <p className="history-warning small">The start of the time range is after its end.</p>}
      {pages.error && items.length > 0 && (
        <HistoryError title="Could not update the runs." message={pages.error} onRetry={pages.retry} />
      )}
      <div className="history-scroll" ref={scrollRef} data-testid="runs-scroll">
        {items.length === 0 ? (
          pages.loading ? (
            <HistoryNote kind="loading">Loading runs…</HistoryNote>
          ) : pages.error ? (
            <HistoryError title="Could not load the runs." message={pages.error} onRetry={pages.retry} />
          ) : filtered ? (
            <HistoryNote kind="empty" testId="runs-empty">
              No run matches these filters.{' '}
              <button type="button" className="link-button" onClick={clearFilters}>
                Clear filters
              </button>
            </HistoryNote>
          ) : (
            <HistoryNote kind="empty" testId="runs-empty">
              This flow has not run yet.
            </HistoryNote>
          )
        ) : (
          <div className="history-virtual" style={{ height: virtualizer.getTotalSize() }}>
            {rows.map((row) => {
              const run = items[row.index];
              return (
                <div
                  key={row.key}
                  className="history-virtual-row"
                  style={{ height: ROW_HEIGHT, transform: `translateY(${row.start}px)` }}
                >
                  {run ? (
                    <RunRow run={run} selected={run.id === selectedRunId} onSelect={onSelect} />
                  ) : pages.moreError ? (
                    <HistoryError
                      title="Could not load more runs."
                      message={pages.moreError}
                      onRetry={pages.retryMore}
                      testId="runs-more-error"
                      compact
                    />
                  ) : (
                    <HistoryNote kind="loading" testId="runs-loading-more">
                      Loading more runs…
                    </HistoryNote>
                  )}
                </div>
              );
            })}
          </div>
        )}
      </div>
    </section>
  );
}
