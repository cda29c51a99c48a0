import { useEffect, useMemo, useState } from 'react';
import { expressionDiagnostics } from '../../lib/expressions/diagnostics';
import {
  conditionOutcome,
  formatPreviewValue,
  type PreviewResult,
  previewExpression,
} from '../../lib/inspector/preview';
import './inspector.css';

interface Props {
  expression: string;
  /** The records the node receives, as far as they are known; the result is shown for the one chosen. */
  records: readonly Record<string, unknown>[];
  /** The node's type: a filter's or branch's result also says where the record goes. */
  nodeType?: string;
  /** Milliseconds to wait after the last change before evaluating. */
  debounceMs?: number;
}

type State =
  | { status: 'idle' }
  | { status: 'pending'; last?: PreviewResult }
  | { status: 'done'; result: PreviewResult };

/**
 * The result of an expression on a sample record, kept up to date as it is typed (debounced), evaluated
 * by the engine's own expression module; with several records, arrows choose which one.
 */
export function ExpressionPreview({ expression, records, nodeType = '', debounceMs = 80 }: Props) {
  const [chosen, setChosen] = useState(0);
  const index = records.length ? Math.min(chosen, records.length - 1) : 0;
  const sample = records[index];
  // The sample by content, so a new object with the same record does not evaluate again.
  const sampleKey = useMemo(() => (sample === undefined ? null : JSON.stringify(sample)), [sample]);
  const [state, setState] = useState<State>({ status: 'idle' });
  const empty = expression.trim() === '';

  useEffect(() => {
    if (empty || sampleKey === null) {
      setState({ status: 'idle' });
      return;
    }
    let current = true;
    setState((s) => ({ status: 'pending', ...(s.status === 'done' ? { last: s.result } : {}) }));
    const timer = setTimeout(() => {
      previewExpression(expression, JSON.parse(sampleKey)).then((result) => {
        if (current) setState({ status: 'done', result });
      });
    }, debounceMs);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [expression, sampleKey, empty, debounceMs]);

  if (empty) return null;
  if (sampleKey === null) {
    return (
      <div className="expression-preview is-idle" data-testid="expression-preview" data-state="no-sample">
        No sample record to try the expression on.
      </div>
    );
  }
  const result = state.status === 'done' ? state.result : state.status === 'pending' ? state.last : undefined;
  const pending = state.status !== 'done';
  // a syntax error is underlined in the editor and said under the field: the result just waits for the fix
  if (result && !result.ok && !pending && expressionDiagnostics(expression).length > 0) {
    return (
      <div className="expression-preview is-idle" data-testid="expression-preview" data-state="syntax-error">
        The result shows here once the expression reads correctly.
      </div>
    );
  }
  return (
    <div
      className={`expression-preview${pending ? ' is-pending' : ''}${result && !result.ok ? ' is-error' : ''}`}
      data-testid="expression-preview"
      data-state={pending ? 'pending' : result?.ok ? 'ok' : 'error'}
      aria-live="polite"
    >
      <span className="expression-preview-label">
        {records.length > 1 ? (
          <span className="expression-preview-records">
            <button
              type="button"
              className="link-button"
              aria-label="Previous record"
              data-testid="expression-preview-previous"
              disabled={index === 0}
              onClick={() => setChosen(index - 1)}
            >
              ‹
            </button>
            <span data-testid="expression-preview-record">
              Record {index + 1} of {records.length}
            </span>
            <button
              type="button"
              className="link-button"
              aria-label="Next record"
              data-testid="expression-preview-next"
              disabled={index >= records.length - 1}
              onClick={() => setChosen(index + 1)}
            >
              ›
            </button>
          </span>
        ) : (
          'On the sample'
        )}
        {pending && <span className="muted"> · evaluating…</span>}
      </span>
      {result === undefined ? null : result.ok ? (
        <>
          <pre className="expression-preview-value" data-testid="expression-preview-value">
            {formatPreviewValue(result.value)}
          </pre>
          {conditionOutcome(nodeType, result.value) && (
            <span className="expression-preview-outcome">→ {conditionOutcome(nodeType, result.value)}</span>
          )}
        </>
      ) : (
        <span className="expression-preview-error">{result.error}</span>
      )}
    </div>
  );
}
