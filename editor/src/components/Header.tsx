import { SHOW_SHORTCUTS_EVENT, ShortcutsHelp } from './ShortcutsHelp';
import { ThemeToggle } from './ThemeToggle';

interface Props {
  flowName: string | null;
  version: number | null;
  problemCount: number;
  /** Opens the connections panel (absent before sign-in). */
  onConnections?: () => void;
}

/** The top bar: product name and the flow that is open. */
export function Header({ flowName, version, problemCount, onConnections }: Props) {
  return (
    <header className="header">
      <span className="brand">Sluice</span>
      {flowName && (
        <>
          <span className="header-separator" aria-hidden="true">
            /
          </span>
          <h1 className="header-flow" data-testid="flow-name">
            {flowName}
          </h1>
          {version !== null && <span className="header-version">v{version}</span>}
          {problemCount > 0 && (
            <span className="header-problems">
              {problemCount} problem{problemCount === 1 ? '' : 's'}
            </span>
          )}
        </>
      )}
      <div className="header-end">
        {onConnections && (
          <button type="button" className="header-link" data-testid="connections-button" onClick={onConnections}>
            Connections
          </button>
        )}
        <ThemeToggle />
        <button
          type="button"
          className="header-link header-icon"
          title="Keyboard shortcuts (?)"
          aria-label="Keyboard shortcuts"
          data-testid="shortcuts-button"
          onClick={() => window.dispatchEvent(new Event(SHOW_SHORTCUTS_EVENT))}
        >
          ?
        </button>
      </div>
      <ShortcutsHelp />
    </header>
  );
}
