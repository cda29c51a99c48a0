import type { ReactNode } from 'react';
import './history.css';

interface ErrorProps {
  /** What could not be done, e.g. "Could not load the runs." */
  title?: string;
  /** A readable message (from describeError). */
  message: string;
  /** Shows a Retry button that calls this. */
  onRetry?: () => void;
  /** Disables the Retry button (while the retry is under way). */
  retrying?: boolean;
  testId?: string;
  /** One line (the message cut, shown whole on hover), for a row of a list. */
  compact?: boolean;
}

/** A failed load in a history view: what failed, why, and a Retry button. */
export function HistoryError({
  title,
  message,
  onRetry,
  retrying = false,
  testId = 'history-error',
  compact = false,
}: ErrorProps) {
  return (
    <div
      className={`error-message history-error${compact ? ' history-error-compact' : ''}`}
      role="alert"
      data-testid={testId}
      title={compact ? message : undefined}
    >
      <div className="error-message-text">
        {title && <strong>{title}</strong>}
        <span>{message}</span>
      </div>
      {onRetry && (
        <button type="button" className="button button-small" onClick={onRetry} disabled={retrying}>
          {retrying ? 'Retrying…' : 'Retry'}
        </button>
      )}
    </div>
  );
}

interface NoteProps {
  /** `loading` is announced politely to screen readers and shows a spinner. */
  kind: 'loading' | 'empty' | 'hint';
  children: ReactNode;
  testId?: string;
}

/** The loading, empty or hint text that stands where a history view's rows would be. */
export function HistoryNote({ kind, children, testId }: NoteProps) {
  return (
    <div
      className={`history-note history-note-${kind}`}
      data-testid={testId ?? `history-${kind}`}
      role={kind === 'loading' ? 'status' : undefined}
    >
      {kind === 'loading' && <span className="history-spinner" aria-hidden="true" />}
      <span>{children}</span>
    </div>
  );
}
