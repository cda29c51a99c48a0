import { createApiClient } from '@sluice/shared';
import { type ReactNode, useMemo, useState } from 'react';
import { ApiContext } from '../api';
import { useFlowDetail } from '../hooks/useFlowDetail';
import { useFlows } from '../hooks/useFlows';
import { getToken } from '../lib/token';
import { ConnectionsPanel } from './connections/ConnectionsPanel';
import { EmptyState } from './EmptyState';
import { ErrorMessage } from './ErrorMessage';
import { FlowList } from './FlowList';
import { FlowWorkspace } from './FlowWorkspace';
import { Header } from './Header';
import { TokenPrompt } from './TokenPrompt';

/**
 * Asks for a token when there is none, or when the server refuses the one kept; otherwise makes the
 * API client with it (the client holds the token) and gives it to the workspace.
 */
export function App() {
  const [token, setToken] = useState<string | null>(getToken);
  const [rejected, setRejected] = useState(false);
  const client = useMemo(
    () => (token ? createApiClient({ token, onUnauthorized: () => setRejected(true) }) : null),
    [token],
  );
  if (!client || rejected) {
    return (
      <div className="app">
        <Header flowName={null} version={null} problemCount={0} />
        <TokenPrompt
          rejected={rejected}
          onSaved={(saved) => {
            setToken(saved);
            setRejected(false);
          }}
        />
      </div>
    );
  }
  return (
    <ApiContext.Provider value={client}>
      <Workspace />
    </ApiContext.Provider>
  );
}

/** The editor: header, flows on the left, the open flow and its runs beside it. */
function Workspace() {
  const flows = useFlows();
  const [chosenId, setChosenId] = useState<string | null>(null);
  const [showConnections, setShowConnections] = useState(false);
  // the number the open flow's problem list shows (the draft's live problems, not the saved version's)
  const [problemCount, setProblemCount] = useState<number | null>(null);
  const list = flows.data;
  const flowId = chosenId ?? list?.[0]?.id ?? null;
  const detail = useFlowDetail(flowId);
  const flow = detail.data?.id === flowId ? detail.data : undefined;
  const summary = list?.find((f) => f.id === flowId);

  let main: ReactNode;
  if (flowId !== null) {
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
          setChosenId(id);
        }}
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
        flowName={flow?.name ?? summary?.name ?? null}
        version={flow?.latestVersion ?? summary?.latestVersion ?? null}
        problemCount={flowId !== null && flow ? (problemCount ?? flow.problems.length) : 0}
        onConnections={() => setShowConnections((v) => !v)}
      />
      {showConnections && (
        <aside className="connections-side" aria-label="Connections">
          <ConnectionsPanel onClose={() => setShowConnections(false)} />
        </aside>
      )}
      <div className={`app-body${flowId !== null ? ' has-workspace' : ''}`}>
        <FlowList
          flows={list}
          loading={flows.loading}
          error={flowId === null ? null : flows.error}
          selectedId={flowId}
          onSelect={setChosenId}
          onReload={flows.reload}
          onCreated={(id) => {
            flows.reload();
            setChosenId(id);
          }}
        />
        {main}
      </div>
    </div>
  );
}
