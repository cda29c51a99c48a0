import { RECORD_STATUSES, type RecordOutcomeView, type RecordStatus } from '@sluice/shared';
import { memo, useEffect, useMemo, useState } from 'react';
import { useApi } from '../../api';
import { formatTimestamp } from '../../lib/format';
import { type RecordFilters, recordsQuery } from '../../lib/history/queries';
import { usePagedList } from '../../lib/history/usePagedVirtualizer';
import { StatusBadge } from '../StatusBadge';
import { HistoryError, HistoryNote } from './states';
import './history.css';

export interface RecordsTableProps {
  /** The run whose record outcomes are listed, in read order (seq). */
  runId: string;
  /** The nodes offered by the node filter (e.g. the ids of the run's flow's nodes). */
  nodeIds: string[];
  /** A node's display name (its label, or the id). */
  nodeLabel: (nodeId: string) => string;
  /** Called with the record when a row is picked. */
  onSelect: (record: RecordOutcomeView) => void;
  /** Rows with this record key are shown as selected. */
  selectedKey?: string | null;
  /**
   * Change it (any new value) to read the records again, e.g. while the run is running or when it finishes.
   * The rows on screen stay until the new ones arrive and as many rows as are loaded are read again (up to
   * 1,000), so the scroll position is kept. A change of run or of a filter starts again from the first page.
   */
  refreshKey?: string | number;
}

/** Rows per page read from the server. */
const PAGE_SIZE = 200;
/** The largest page `GET /api/runs/:id/records` serves. */
const MAX_LIMIT = 1000;
/** Every row has this height (px); the stylesheet agrees (.records-row). */
const ROW_HEIGHT = 30;
/** The key search applies this long after the last keystroke (Enter applies it at once). */
const SEARCH_DEBOUNCE_MS = 300;

const STATUS_OPTIONS: { value: RecordStatus | ''; label: string }[] = [
  { value: '', label: 'All' },
  ...RECORD_STATUSES.map((s) => ({ value: s, label: s })),
];

/** One record outcome; memoised, so that scrolling renders only the rows that come into view. */
const RecordRow = memo(function RecordRow({
  record,
  selected,
  nodeLabel,
  onSelect,
}: {
  record: RecordOutcomeView;
  selected: boolean;
  nodeLabel: (nodeId: string) => string;
  onSelect: (record: RecordOutcomeView) => void;
}) {
  const message = record.error?.message;
  return (
    <button
      type="button"
      className={`records-row records-grid${selected ? ' is-active' : ''}`}
      data-testid="records-row"
      data-seq={record.seq}
      data-key={record.key}
      data-status={record.status}
      aria-current={selected ? 'true' : undefined}
      onClick={() => onSelect(record)}
    >
      <span className="records-cell records-seq">{record.seq}</span>
      <span className="records-cell records-key mono" title={`${record.key} · ${formatTimestamp(record.at)}`}>
        {record.key}
      </span>
      <span className="records-cell">
        <StatusBadge status={record.status} />
      </span>
      <span className="records-cell" title={record.nodeId}>
        {nodeLabel(record.nodeId)}
      </span>
      <span className="records-cell records-attempts">{record.attempts}</span>
      <span className={`records-cell records-error${message ? '' : ' is-empty'}`} title={message}>
        {message ?? '–'}
      </span>
    </button>
  );
});

/**
 * The record outcomes of a run, in read order: filters by status and node, an exact key search, and a
 * virtualised table (fixed row height, only the visible rows rendered) that reads further pages from the
 * server as it is scrolled. Fills its parent's height (at least 200 px for the rows); give the parent a height.
 */
export function RecordsTable({ runId, nodeIds, nodeLabel, onSelect, selectedKey, refreshKey }: RecordsTableProps) {
  const api = useApi();
  const [status, setStatus] = useState<RecordStatus | ''>('');
  const [node, setNode] = useState('');
  const [keyInput, setKeyInput] = useState('');
  const [key, setKey] = useState('');

  useEffect(() => {
    const wanted = keyInput.trim();
    const timer = setTimeout(() => setKey(wanted), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [keyInput]);

  // A node filter the current flow does not have any more is dropped.
  const nodeFilter = node !== '' && nodeIds.includes(node) ? node : '';
  const filters: RecordFilters = useMemo(() => ({ status, node: nodeFilter, key }), [status, nodeFilter, key]);
  const filtered = status !== '' || nodeFilter !== '' || key !== '';
  const query = JSON.stringify([runId, filters]);

  const { pages, scrollRef, virtualizer, rows } = usePagedList<RecordOutcomeView>(
    query,
    refreshKey,
    (limit, cursor, signal) =>
      api.call('listRecords', { params: { id: runId }, query: recordsQuery(filters, limit, cursor), signal }),
    ROW_HEIGHT,
    { pageSize: PAGE_SIZE, maxLimit: MAX_LIMIT },
  );

  const clearFilters = () => {
    setStatus('');
    setNode('');
    setKeyInput('');
    setKey('');
  };
  const { items } = pages;
  const searching = keyInput.trim() !== key;

  return (
    <section className="history-panel records-table" data-testid="records-table" aria-label="Record outcomes">
      <div className="history-filters">
        <label className="history-field">
          <span>Status</span>
          <select
            data-testid="records-filter-status"
            value={status}
            onChange={(e) => setStatus(e.target.value as RecordStatus | '')}
          >
            {STATUS_OPTIONS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <label className="history-field">
          <span>Node</span>
          <select data-testid="records-filter-node" value={nodeFilter} onChange={(e) => setNode(e.target.value)}>
            <option value="">All nodes</option>
            {nodeIds.map((id) => (
              <option key={id} value={id}>
                {nodeLabel(id)}
              </option>
            ))}
          </select>
        </label>
        <label className="history-field history-field-grow">
          <span>Key</span>
          <input
            type="search"
            data-testid="records-search"
            placeholder="Exact record key, Enter to search"
            value={keyInput}
            maxLength={1000}
            onChange={(e) => setKeyInput(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') setKey(keyInput.trim());
            }}
          />
        </label>
        {filtered && (
          <button type="button" className="link-button history-clear" onClick={clearFilters}>
            Clear filters
          </button>
        )}
      </div>
      <div className="history-toolbar">
        <span className="muted small" data-testid="records-loaded">
          {items.length > 0 &&
            `${items.length.toLocaleString()}${pages.hasMore ? '+' : ''} record${items.length === 1 && !pages.hasMore ? '' : 's'}`}
          {(pages.refreshing || searching) && ' · updating…'}
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
      {pages.error && items.length > 0 && (
        <HistoryError title="Could not update the records." message={pages.error} onRetry={pages.retry} />
      )}
      <div className="records-head records-grid" aria-hidden="true">
        <span className="records-seq">Seq</span>
        <span>Key</span>
        <span>Status</span>
        <span>Node</span>
        <span className="records-attempts">Attempts</span>
        <span>Error</span>
      </div>
      <div className="history-scroll records-scroll" ref={scrollRef} data-testid="records-scroll">
        {items.length === 0 ? (
          pages.loading ? (
            <HistoryNote kind="loading">Loading records…</HistoryNote>
          ) : pages.error ? (
            <HistoryError title="Could not load the records." message={pages.error} onRetry={pages.retry} />
          ) : filtered ? (
            <HistoryNote kind="empty" testId="records-empty">
              {key !== '' ? (
                <>
                  No record with the key <code>{key}</code>
                  {status !== '' || nodeFilter !== '' ? ' matches these filters' : ' in this run'}.{' '}
                </>
              ) : (
                'No record matches these filters. '
              )}
              <button type="button" className="link-button" onClick={clearFilters}>
                Clear filters
              </button>
            </HistoryNote>
          ) : (
            <HistoryNote kind="empty" testId="records-empty">
              No record outcome is stored for this run (it has read none yet, or retention removed them).
            </HistoryNote>
          )
        ) : (
          <div className="history-virtual" style={{ height: virtualizer.getTotalSize() }}>
            {rows.map((row) => {
              const record = items[row.index];
              return (
                <div
                  key={row.key}
                  className="history-virtual-row"
                  style={{ height: ROW_HEIGHT, transform: `translateY(${row.start}px)` }}
                >
                  {record ? (
                    <RecordRow
                      record={record}
                      selected={selectedKey != null && record.key === selectedKey}
                      nodeLabel={nodeLabel}
                      onSelect={onSelect}
                    />
                  ) : pages.moreError ? (
                    <HistoryError
                      title="Could not load more records."
                      message={pages.moreError}
                      onRetry={pages.retryMore}
                      testId="records-more-error"
                      compact
                    />
                  ) : (
                    <HistoryNote kind="loading" testId="records-loading-more">
                      Loading more records…
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
