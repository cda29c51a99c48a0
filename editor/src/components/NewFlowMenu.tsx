import type { FlowInput, Template } from '@sluice/shared';
import { useState } from 'react';
import { describeError, useApi } from '../api';
import { useAsync } from '../hooks/useAsync';

interface Props {
  onCreated: (flowId: string) => void;
}

const BLANK: FlowInput = { format: 2, name: 'Untitled flow', nodes: [], edges: [] };

/** Starts a new flow: blank, or from one of the example flows. */
export function NewFlowMenu({ onCreated }: Props) {
  const api = useApi();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const templates = useAsync(open ? 'templates' : null, (signal) => api.call('listTemplates', { signal }));
  const create = (doc: FlowInput | Template['document']) => {
    setError(null);
    api.call('createFlow', { body: doc }).then(
      (flow) => {
        setOpen(false);
        onCreated(flow.id);
      },
      (e: unknown) => setError(describeError(e)),
    );
  };
  return (
    <div className="new-flow">
      <button
        type="button"
        className="button button-small button-primary"
        data-testid="new-flow-button"
        onClick={() => setOpen((o) => !o)}
        aria-expanded={open}
      >
        New flow
      </button>
      {open && (
        <div className="new-flow-menu" data-testid="new-flow-menu">
          <button type="button" className="new-flow-option" data-testid="new-blank-flow" onClick={() => create(BLANK)}>
            <strong>Blank flow</strong>
            <span>Start from an empty canvas and drag in the steps.</span>
          </button>
          {templates.loading && <p className="muted">Loading templates…</p>}
          {templates.error && <p className="error-text">{templates.error}</p>}
          {templates.data?.items.map((t) => (
            <button
              type="button"
              key={t.file}
              className="new-flow-option"
              data-testid="new-from-template"
              onClick={() => create({ ...t.document, name: t.name })}
            >
              <strong>{t.name}</strong>
              {t.description && <span>{t.description}</span>}
            </button>
          ))}
          {error && <p className="error-text">{error}</p>}
        </div>
      )}
    </div>
  );
}
