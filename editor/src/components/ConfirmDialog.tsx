import { type ReactNode, useEffect, useRef } from 'react';

export interface DialogChoice {
  label: string;
  onChoose: () => void;
  kind?: 'primary' | 'danger';
  testId?: string;
}

interface Props {
  title: string;
  children: ReactNode;
  /** The buttons, the last one first in focus; Escape chooses `onCancel`. */
  choices: DialogChoice[];
  onCancel: () => void;
  testId?: string;
}

/** A modal question with a few answers (unsaved changes, deleting a flow). */
export function ConfirmDialog({ title, children, choices, onCancel, testId }: Props) {
  const first = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    first.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onCancel();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onCancel]);
  return (
    <div className="dialog-backdrop">
      <div className="dialog" role="dialog" aria-modal="true" aria-label={title} data-testid={testId}>
        <h2 className="dialog-title">{title}</h2>
        <div className="dialog-body">{children}</div>
        <div className="dialog-actions">
          {choices.map((c, i) => (
            <button
              key={c.label}
              ref={i === choices.length - 1 ? first : undefined}
              type="button"
              className={`button${c.kind === 'primary' ? ' button-primary' : c.kind === 'danger' ? ' button-danger' : ''}`}
              data-testid={c.testId}
              onClick={c.onChoose}
            >
              {c.label}
            </button>
          ))}
        </div>
      </div>
    </div>
  );
}
