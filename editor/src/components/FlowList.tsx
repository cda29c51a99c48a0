import type { FlowSummary } from '@sluice/shared';
import { ErrorMessage } from './ErrorMessage';
import { NewFlowMenu } from './NewFlowMenu';
import { Section } from './Section';

interface Props {
  flows: FlowSummary[] | undefined;
  loading: boolean;
  error: string | null;
  selectedId: string | null;
  onSelect: (flowId: string) => void;
  onReload: () => void;
  onCreated: (flowId: string) => void;
}

/** The left sidebar: every flow, the open one marked. */
export function FlowList({ flows, loading, error, selectedId, onSelect, onReload, onCreated }: Props) {
  return (
    <nav className="sidebar" aria-label="Flows">
      <Section
        id="flows"
        title="Flows"
        count={flows?.length}
        actions={
          <button type="button" className="link-button" onClick={onReload} disabled={loading}>
            Reload
          </button>
        }
      >
        <NewFlowMenu onCreated={onCreated} />
        {error && <ErrorMessage title="Could not load the flows." message={error} onRetry={onReload} />}
        {!flows && loading && <p className="muted">Loading flows…</p>}
        {flows && flows.length === 0 && <p className="muted">No flows yet.</p>}
        {flows && flows.length > 0 && (
          <ul className="flow-list">
            {flows.map((flow) => (
              <li key={flow.id}>
                <button
                  type="button"
                  className={`flow-list-item${flow.id === selectedId ? ' is-active' : ''}`}
                  data-testid="flow-list-item"
                  aria-current={flow.id === selectedId ? 'page' : undefined}
                  onClick={() => onSelect(flow.id)}
                  title={flow.description ?? flow.name}
                >
                  <span className="flow-list-name">{flow.name}</span>
                  {flow.description && <span className="flow-list-description">{flow.description}</span>}
                </button>
              </li>
            ))}
          </ul>
        )}
      </Section>
    </nav>
  );
}
