import { useState } from 'react';
import { SHOW_SHORTCUTS_EVENT, ShortcutsHelp } from './ShortcutsHelp';
import { ThemeToggle } from './ThemeToggle';
import { AccountMenu } from './users/AccountMenu';

/** The screens the header switches between. */
export type HeaderView = 'flows' | 'operations' | 'audit' | 'users';

/** The title the header shows for a screen other than the flows. */
const SCREEN_TITLES: Partial<Record<HeaderView, string>> = {
  operations: 'Operations',
  audit: 'Audit log',
  users: 'Users',
};

interface Props {
  flowName: string | null;
  version: number | null;
  problemCount: number;
  /** Whether the open flow has unsaved changes. */
  dirty?: boolean;
  /** Renames the open flow (absent while nothing can be renamed). */
  onRename?: (name: string) => void;
  /** Opens the connections panel (absent before sign-in). */
  onConnections?: () => void;
  /** Which screen is shown: the flows (editor), the operations screen, the audit log or the users (admins). */
  view?: HeaderView;
  /** Switches between the screens (absent before sign-in). */
  onView?: (view: HeaderView) => void;
  /** Whether the Users screen is offered (admins). */
  canManageUsers?: boolean;
  /** Whether the Audit log screen is offered (admins). */
  canReadAudit?: boolean;
}

/** The top bar: product name and the flow that is open, renamed by clicking its name. */
export function Header({
  flowName,
  version,
  problemCount,
  dirty = false,
  onRename,
  onConnections,
  view = 'flows',
  onView,
  canManageUsers = false,
  canReadAudit = false,
}: Props) {
  const [editing, setEditing] = useState<string | null>(null);
  const commit = () => {
    if (editing?.trim() && editing.trim() !== flowName) onRename?.(editing.trim());
    setEditing(null);
  };
  return (
    <header className="header">
      <span className="brand">Sluice</span>
      {SCREEN_TITLES[view] && (
        <>
          <span className="header-separator" aria-hidden="true">
            /
          </span>
          <h1 className="header-flow">{SCREEN_TITLES[view]}</h1>
        </>
      )}
      {view === 'flows' && flowName !== null && (
        <>
          <span className="header-separator" aria-hidden="true">
            /
          </span>
          {editing !== null ? (
            <input
              className="header-flow-input"
              data-testid="flow-name-input"
              aria-label="Flow name"
              value={editing}
              maxLength={200}
              // biome-ignore lint/a11y/noAutofocus: the field appears because the user asked to rename
              autoFocus
              onFocus={(e) => e.target.select()}
              onChange={(e) => setEditing(e.target.value)}
              onBlur={commit}
              onKeyDown={(e) => {
                if (e.key === 'Enter') commit();
                else if (e.key === 'Escape') setEditing(null);
              }}
            />
          ) : (
            <h1 className="header-flow">
              {onRename ? (
                <button
                  type="button"
                  className="header-flow-name"
                  data-testid="flow-name"
                  title="Rename"
                  onClick={() => setEditing(flowName)}
                >
                  {flowName}
                </button>
              ) : (
                <span data-testid="flow-name">{flowName}</span>
              )}
            </h1>
          )}
          {version !== null && <span className="header-version">v{version}</span>}
          {dirty && (
            <span className="header-unsaved" data-testid="unsaved-marker" title="Changes not saved yet">
              Unsaved changes
            </span>
          )}
          {problemCount > 0 && (
            <span className="header-problems" data-testid="header-problem-count">
              {problemCount} problem{problemCount === 1 ? '' : 's'}
            </span>
          )}
        </>
      )}
      <div className="header-end">
        {onView && (
          <>
            <button
              type="button"
              className={`header-link${view === 'flows' ? ' is-current' : ''}`}
              data-testid="flows-button"
              aria-pressed={view === 'flows'}
              onClick={() => onView('flows')}
            >
              Flows
            </button>
            <button
              type="button"
              className={`header-link${view === 'operations' ? ' is-current' : ''}`}
              data-testid="operations-button"
              aria-pressed={view === 'operations'}
              onClick={() => onView('operations')}
            >
              Operations
            </button>
            {canReadAudit && (
              <button
                type="button"
                className={`header-link${view === 'audit' ? ' is-current' : ''}`}
                data-testid="audit-button"
                aria-pressed={view === 'audit'}
                onClick={() => onView('audit')}
              >
                Audit log
              </button>
            )}
            {canManageUsers && (
              <button
                type="button"
                className={`header-link${view === 'users' ? ' is-current' : ''}`}
                data-testid="users-button"
                aria-pressed={view === 'users'}
                onClick={() => onView('users')}
              >
                Users
              </button>
            )}
          </>
        )}
        {onConnections && (
          <button type="button" className="header-link" data-testid="connections-button" onClick={onConnections}>
            Connections
          </button>
        )}
        <ThemeToggle />
        <AccountMenu />
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
