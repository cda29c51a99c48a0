import { type ReactNode, useId, useState } from 'react';

interface Props {
  /** Names the section where its open state is kept, so it stays as the user left it. */
  id: string;
  title: string;
  /** A number beside the title (problems, flows), shown when the section is folded too. */
  count?: number | undefined;
  /** Buttons at the right of the title (Reload…). */
  actions?: ReactNode;
  defaultOpen?: boolean;
  className?: string;
  children: ReactNode;
}

const key = (id: string) => `sluice.section.${id}`;

function initiallyOpen(id: string, fallback: boolean): boolean {
  try {
    const saved = localStorage.getItem(key(id));
    return saved === null ? fallback : saved === 'open';
  } catch {
    return fallback;
  }
}

/** A part of the left column whose title folds it away or opens it again. */
export function Section({ id, title, count, actions, defaultOpen = true, className, children }: Props) {
  const [open, setOpen] = useState(() => initiallyOpen(id, defaultOpen));
  const bodyId = useId();
  const toggle = () => {
    setOpen(!open);
    try {
      localStorage.setItem(key(id), open ? 'closed' : 'open');
    } catch {
      // storage may be off: the section is folded for this page only
    }
  };
  return (
    <section
      className={`side-section${open ? ' is-open' : ''}${className ? ` ${className}` : ''}`}
      aria-label={title}
      data-testid={`section-${id}`}
    >
      <div className="section-title">
        <button
          type="button"
          className="section-toggle"
          aria-expanded={open}
          aria-controls={bodyId}
          data-testid={`section-toggle-${id}`}
          onClick={toggle}
        >
          <span className="section-chevron" aria-hidden="true">
            ▸
          </span>
          {title}
          {count !== undefined && count > 0 && (
            <span className="section-count" data-testid={`section-count-${id}`}>
              {count}
            </span>
          )}
        </button>
        {open && actions}
      </div>
      <div id={bodyId} className="section-body" hidden={!open}>
        {children}
      </div>
    </section>
  );
}
