import { useId, useMemo, useState } from 'react';
import { prettyJson } from '../lib/format';

interface Props {
  /** The payload as stored with the failed record. */
  original: unknown;
  /** The edit kept so far, if any. */
  edited: Record<string, unknown> | undefined;
  /** Keeps an edit (undefined: back to the stored payload). */
  onChange: (payload: Record<string, unknown> | undefined) => void;
  /** Retries this record alone, with the payload in the editor. */
  onRetry: ((payload: Record<string, unknown> | undefined) => void) | undefined;
}

/** What a JSON text is: an object to send, or why it cannot be. */
function parseObject(text: string): { value: Record<string, unknown> } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return { error: 'A record is a JSON object: { "field": value, … }' };
  return { value: value as Record<string, unknown> };
}

/** A failed record's payload, editable as JSON (checked while typing), to retry it with a fix. */
export function PayloadEditor({ original, edited, onChange, onRetry }: Props) {
  const id = useId();
  const [text, setText] = useState(() => prettyJson(edited ?? original));
  const parsed = useMemo(() => parseObject(text), [text]);
  const error = 'error' in parsed ? parsed.error : null;
  const same = !error && 'value' in parsed && JSON.stringify(parsed.value) === JSON.stringify(original);
  const keep = (value: Record<string, unknown>) =>
    onChange(JSON.stringify(value) === JSON.stringify(original) ? undefined : value);
  return (
    <div className="payload-editor">
      <label htmlFor={id} className="payload-editor-label">
        Payload to send on retry
      </label>
      <textarea
        id={id}
        className="payload-editor-text mono"
        data-testid="payload-editor"
        spellCheck={false}
        aria-invalid={error !== null}
        aria-describedby={`${id}-status`}
        rows={Math.min(16, Math.max(5, text.split('\n').length))}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          const next = parseObject(e.target.value);
          if ('value' in next) keep(next.value);
        }}
      />
      <p
        id={`${id}-status`}
        className={error ? 'error-text payload-editor-status' : 'muted payload-editor-status'}
        data-testid="payload-status"
        role={error ? 'alert' : undefined}
      >
        {error ? `Not valid JSON: ${error}` : same ? 'As stored.' : 'Edited: the retry sends this payload.'}
      </p>
      <div className="payload-editor-actions">
        {onRetry && (
          <button
            type="button"
            className="button button-small button-primary"
            data-testid="retry-record"
            disabled={error !== null}
            onClick={() => 'value' in parsed && onRetry(same ? undefined : parsed.value)}
          >
            Retry this record
          </button>
        )}
        <button
          type="button"
          className="button button-small"
          data-testid="payload-revert"
          disabled={same}
          onClick={() => {
            setText(prettyJson(original));
            onChange(undefined);
          }}
        >
          Revert
        </button>
      </div>
    </div>
  );
}
