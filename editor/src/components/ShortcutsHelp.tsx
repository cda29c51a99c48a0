import { useEffect, useRef, useState } from 'react';
import { isTyping } from '../lib/keys';

/** Sent on `window` to open the list from elsewhere (the header's "?" button). */
export const SHOW_SHORTCUTS_EVENT = 'sluice:show-shortcuts';

const mod = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform) ? '⌘' : 'Ctrl';

const SHORTCUTS: [keys: string[], what: string][] = [
  [[`${mod}+Enter`], 'Run the flow (saves it first)'],
  [[`${mod}+Shift+Enter`], 'Test the flow'],
  [[`${mod}+S`], 'Save a new version'],
  [[`${mod}+Z`], 'Undo'],
  [[`${mod}+Shift+Z`, `${mod}+Y`], 'Redo'],
  [[`${mod}+C`, `${mod}+V`], 'Copy and paste the selected steps'],
  [['Delete', 'Backspace'], 'Remove the selected steps or connections'],
  [['Shift+click', `${mod}+click`], 'Select several steps'],
  [['?'], 'Show this list'],
  [['Esc'], 'Close this list'],
];

/** The keyboard shortcuts, shown on "?" (outside a text field) or from the header's button. */
export function ShortcutsHelp() {
  const [open, setOpen] = useState(false);
  const close = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === '?' && !e.ctrlKey && !e.metaKey && !e.altKey && !isTyping(e.target)) {
        e.preventDefault();
        setOpen((v) => !v);
      } else if (e.key === 'Escape') setOpen(false);
    };
    const onShow = () => setOpen(true);
    window.addEventListener('keydown', onKey);
    window.addEventListener(SHOW_SHORTCUTS_EVENT, onShow);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener(SHOW_SHORTCUTS_EVENT, onShow);
    };
  }, []);

  useEffect(() => {
    if (open) close.current?.focus();
  }, [open]);

  if (!open) return null;
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: clicking the backdrop closes the dialog; Esc does too
    // biome-ignore lint/a11y/useKeyWithClickEvents: Esc closes it (handled on window)
    <div className="modal-backdrop" onClick={(e) => e.target === e.currentTarget && setOpen(false)}>
      <div
        className="modal shortcuts"
        role="dialog"
        aria-modal="true"
        aria-labelledby="shortcuts-title"
        data-testid="shortcuts"
      >
        <div className="modal-head">
          <h2 id="shortcuts-title">Keyboard shortcuts</h2>
          <button type="button" className="link-button" ref={close} onClick={() => setOpen(false)}>
            Close
          </button>
        </div>
        <table className="shortcut-table">
          <tbody>
            {SHORTCUTS.map(([keys, what]) => (
              <tr key={what}>
                <td>
                  {keys.map((k, i) => (
                    <span key={k}>
                      {i > 0 && <span className="muted"> or </span>}
                      <kbd>{k}</kbd>
                    </span>
                  ))}
                </td>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
