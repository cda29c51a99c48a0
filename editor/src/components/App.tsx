import { createApiClient, type SessionView } from '@sluice/shared';
import { type ReactNode, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiContext } from '../api';
import { useFlowDetail } from '../hooks/useFlowDetail';
import { useFlows } from '../hooks/useFlows';
import { clearToken, getToken } from '../lib/token';
import { SessionContext, setupTokenFromUrl, useCan } from '../session';
import { AuditScreen } from './audit/AuditScreen';
import { ConfirmDialog } from './ConfirmDialog';
import { ConnectionsPanel } from './connections/ConnectionsPanel';
import { type Draft, DraftWorkspace } from './DraftWorkspace';
import { EmptyState } from './EmptyState';
import { ErrorMessage } from './ErrorMessage';
import { FlowList } from './FlowList';
import { FlowWorkspace, type WorkspaceState } from './FlowWorkspace';
import { Header, type HeaderView } from './Header';
import { LoginPage } from './LoginPage';
import { OperationsScreen } from './operations/OperationsScreen';
import { TokenPrompt } from './TokenPrompt';
import { UsersScreen } from './users/UsersScreen';

/**
 * Signs in, then gives the workspace an API client and the session. A token kept in this browser (or
 * handed over in the address) is used as it is; without one, the session cookie is tried, and when
 * there is none the login page is shown (or, with a first start's `#setup=` link, the form that makes
 * the first admin). The API token form stays as the other way in.
 */
export function App() {
  const [token, setTokenState] = useState<string | null>(getToken);
  const [rejected, setRejected] = useState(false);
  const [session, setSession] = useState<SessionView | null>(null);
  const [checked, setChecked] = useState(false);
  const [tokenForm, setTokenForm] = useState(false);
  const [setupToken, setSetupToken] = useState<string | null>(() => setupTokenFromUrl());
  // the session's CSRF token, read by the client on every call that may change something
  const csrf = useRef<string | null>(null);
  csrf.current = session?.csrfToken ?? null;
  const client = useMemo(() => {
    const onUnauthorized = () => {
      if (token) setRejected(true);
      else setSession(null);
    };
    return token
      ? createApiClient({ token, onUnauthorized })
      : createApiClient({ csrfToken: () => csrf.current, onUnauthorized });
  }, [token]);
  useEffect(() => {
    let live = true;
    setChecked(false);
    client.call('getSession').then(
      (view) => {
        if (!live) return;
        setSession(view);
        setRejected(false);
        setChecked(true);
      },
      () => {
        if (!live) return;
        setSession(null);
        setChecked(true);
      },
    );
    return () => {
      live = false;
    };
  }, [client]);
  const signOut = useCallback(() => {
    if (token) {
      clearToken();
      setTokenState(null);
      setSession(null);
      return;
    }
    client.call('logout').finally(() => setSession(null));
  }, [client, token]);
  const editorSession = useMemo(() => (session ? { view: session, signOut } : null), [session, signOut]);

  if (!checked) {
    return (
      <div className="app">
        <Header flowName={null} version={null} problemCount={0} />
        <main className="main placeholder">Loading…</main>
      </div>
    );
  }
  if (!editorSession || rejected) {
    const useToken = tokenForm || (token !== null && rejected);
    return (
      <div className="app">
        <Header flowName={null} version={null} problemCount={0} />
        {useToken ? (
          <TokenPrompt
            rejected={rejected}
            onSaved={(saved) => {
              setTokenState(saved);
              setRejected(false);
            }}
          />
        ) : (
          <LoginPage
            client={client}
            setupToken={setupToken}
            onSignedIn={(view) => {
              setSetupToken(null);
              setSession(view);
            }}
            onUseToken={() => setTokenForm(true)}
          />
        )}
      </div>
    );
  }
  return (
    <ApiContext.Provider value={client}>
      <SessionContext.Provider value={editorSession}>
        <Workspace />
      </SessionContext.Provider>
    </ApiContext.Provider>
  );
}

/** The editor: header, flows on the left, the open flow and its runs beside it. */
function Workspace() {
  const flows = useFlows();
  const [chosenId, setChosenId] = useState<string | null>(null);
  const [showConnections, setShowConnections] = useState(false);
  // the flows (the editor), the operations screen, the audit log or the users, switched in the header
  const [view, setView] = useState<HeaderView>('flows');
  const can = useCan();
  const [draft, setDraft] = useState<Draft | null>(null);
  // the open flow's name and unsaved state, reported by its workspace (or the draft's)
  const [open, setOpen] = useState<WorkspaceState | null>(null);
  // where the user wanted to go while there were unsaved changes
  const [leaving, setLeaving] = useState<(() => void) | null>(null);
  // the number the open flow's problem list shows (the draft's live problems, not the saved version's)
  const [problemCount, setProblemCount] = useState<number | null>(null);
  const list = flows.data;
  const flowId = draft || view !== 'flows' ? null : (chosenId ?? list?.[0]?.id ?? null);
  const detail = useFlowDetail(flowId);
  const flow = detail.data?.id === flowId ? detail.data : undefined;
  const summary = list?.find((f) => f.id === flowId);
  const dirty = open?.dirty ?? false;

  /** Does `go` at once, or once the user said what becomes of the unsaved changes. */
  const guard = useCallback(
    (go: () => void) => {
      if (dirty) setLeaving(() => go);
      else go();
    },
    [dirty],
  );
  const openFlow = useCallback(
    (id: string) =>
      guard(() => {
        setDraft(null);
        setChosenId(id);
      }),
    [guard],
  );

  // reloading or closing the tab asks too (the browser's own question: it shows no text of ours)
  useEffect(() => {
    if (!dirty) return;
    const onLeave = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', onLeave);
    return () => window.removeEventListener('beforeunload', onLeave);
  }, [dirty]);

  let main: ReactNode;
  if (draft) {
    main = (
      <DraftWorkspace
        draft={draft}
        onState={setOpen}
        onSaved={(id) => {
          setOpen(null);
          setDraft(null);
          flows.reload();
          setChosenId(id);
        }}
        onDiscard={() => {
          setOpen(null);
          setDraft(null);
        }}
      />
    );
  } else if (flowId !== null) {
    main = (
      <FlowWorkspace
        key={flowId}
        flowId={flowId}
        flow={flow}
        error={detail.error}
        onReload={() => {
          detail.reload();
          flows.reload();
        }}
        onOpenFlow={(id) => {
          flows.reload();
          openFlow(id);
        }}
        onOpenDraft={(d) => guard(() => setDraft(d))}
        onState={setOpen}
        onProblemCount={setProblemCount}
      />
    );
  } else if (list && list.length === 0) {
    main = (
      <main className="main">
        <EmptyState onReload={flows.reload} />
      </main>
    );
  } else if (flows.error) {
    main = (
      <main className="main placeholder">
        <ErrorMessage title="Could not load the flows." message={flows.error} onRetry={flows.reload} />
      </main>
    );
  } else {
    main = <main className="main placeholder">Loading…</main>;
  }

  return (
    <div className="app">
      <Header
        flowName={open?.name ?? flow?.name ?? summary?.name ?? null}
        version={draft ? null : (flow?.latestVersion ?? summary?.latestVersion ?? null)}
        problemCount={
          draft ? draft.problems.length : flowId !== null && flow ? (problemCount ?? flow.problems.length) : 0
        }
        dirty={dirty}
        {...(open ? { onRename: open.rename } : {})}
        onConnections={() => setShowConnections((v) => !v)}
        view={view}
        canManageUsers={can('users.manage')}
        canReadAudit={can('audit.read')}
        onView={(next) => {
          if (next === view) return;
          // leaving the open flow asks first when it has unsaved changes
          if (next !== 'flows') guard(() => setView(next));
          else {
            flows.reload();
            setView('flows');
          }
        }}
      />
      {showConnections && (
        <aside className="connections-side" aria-label="Connections">
          <ConnectionsPanel onClose={() => setShowConnections(false)} />
        </aside>
      )}
      {view === 'operations' && (
        <OperationsScreen
          onOpenFlow={(id) => {
            flows.reload();
            setDraft(null);
            setChosenId(id);
            setView('flows');
          }}
        />
      )}
      {view === 'audit' && <AuditScreen />}
      {view === 'users' && <UsersScreen />}
      {view === 'flows' && (
        <div className={`app-body${flowId !== null || draft ? ' has-workspace' : ''}`}>
          <FlowList
            flows={list}
            loading={flows.loading}
            error={flowId === null ? null : flows.error}
            selectedId={flowId}
            onSelect={openFlow}
            onReload={flows.reload}
            onCreated={(id) => {
              flows.reload();
              openFlow(id);
            }}
            onRemoved={(id) => {
              if (id !== flowId) return;
              setOpen(null);
              setChosenId(list?.find((f) => f.id !== id)?.id ?? null);
            }}
          />
          {main}
        </div>
      )}
      {leaving && (
        <ConfirmDialog
          title={`Unsaved changes in “${open?.name ?? 'this flow'}”`}
          testId="unsaved-dialog"
          onCancel={() => setLeaving(null)}
          choices={[
            { label: 'Stay', onChoose: () => setLeaving(null), testId: 'unsaved-stay' },
            {
              label: 'Discard changes',
              kind: 'danger',
              testId: 'unsaved-discard',
              onChoose: () => {
                const go = leaving;
                setLeaving(null);
                setOpen(null);
                go();
              },
            },
            {
              label: draft ? 'Save as a new flow' : 'Save and continue',
              kind: 'primary',
              testId: 'unsaved-save',
              onChoose: () => {
                const go = leaving;
                setLeaving(null);
                void open?.save().then((saved) => {
                  if (saved) go();
                });
              },
            },
          ]}
        >
          <p>Your changes have not been saved. Leaving now throws them away.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
