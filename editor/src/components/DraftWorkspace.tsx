import { type Flow, type Problem, validateFlow } from '@sluice/shared';
import { useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { describeError, useApi } from '../api';
import { editReducer, initialState } from '../lib/editing';
import { FlowCanvas } from './FlowCanvas';
import { Inspector } from './inspector/Inspector';
import { ProblemList } from './ProblemList';

/** A flow document that is not stored: an import whose problems must be seen (and may be fixed) first. */
export interface Draft {
  doc: Flow;
  /** The file it came from. */
  fileName: string;
  /** The server's problems at import (cron and time zones included); the browser's once edited. */
  problems: Problem[];
}

export interface DraftState {
  name: string;
  dirty: true;
  rename: (name: string) => void;
  save: () => Promise<unknown>;
}

interface Props {
  draft: Draft;
  /** Saved as a new flow: open it. */
  onSaved: (flowId: string) => void;
  onDiscard: () => void;
  onState?: (state: DraftState | null) => void;
}

/** An unsaved draft: canvas, inspector and problems, "Save as a new flow" or "Discard". Nothing runs from here. */
export function DraftWorkspace({ draft, onSaved, onDiscard, onState }: Props) {
  const api = useApi();
  const [state, dispatch] = useReducer(editReducer, draft.doc, initialState);
  const [selection, setSelection] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const edited = state.doc !== draft.doc;
  const problems = useMemo(() => (edited ? validateFlow(state.doc).problems : draft.problems), [edited, state, draft]);
  const errors = problems.filter((p) => p.severity === 'error').length;
  const selected = selection.length === 1 ? state.doc.nodes.find((n) => n.id === selection[0]) : undefined;

  const save = async () => {
    setSaving(true);
    setError(null);
    try {
      const created = await api.call('createFlow', { body: state.doc });
      onSaved(created.id);
      return created;
    } catch (e) {
      setError(`Could not save: ${describeError(e)}`);
      return undefined;
    } finally {
      setSaving(false);
    }
  };
  const saveRef = useRef(save);
  saveRef.current = save;
  useEffect(() => {
    onState?.({
      name: state.doc.name,
      dirty: true,
      rename: (name) => dispatch({ type: 'rename-flow', name }),
      save: () => saveRef.current(),
    });
  }, [state.doc.name, onState]);
  useEffect(() => () => onState?.(null), [onState]);

  return (
    <div className="workspace">
      <aside className="flow-side" aria-label="Draft">
        <ProblemList problems={problems} />
      </aside>
      <main className="workspace-main">
        <div className="draft-banner" role="status" data-testid="draft-banner">
          <span>
            <strong>Not saved.</strong> Imported from {draft.fileName}
            {errors > 0
              ? ` with ${errors === 1 ? 'an error' : `${errors} errors`}: fix ${errors === 1 ? 'it' : 'them'} here, or save the flow as a draft and fix it later.`
              : ': no errors left.'}
          </span>
          <button
            type="button"
            className="button button-small button-primary"
            data-testid="draft-save"
            disabled={saving}
            onClick={() => void save()}
          >
            {saving ? 'Saving…' : 'Save as a new flow'}
          </button>
          <button type="button" className="button button-small" data-testid="draft-discard" onClick={onDiscard}>
            Discard
          </button>
          {error && <span className="error-text">{error}</span>}
        </div>
        <div className="canvas-row">
          <div className="canvas-area">
            <FlowCanvas
              doc={state.doc}
              problems={problems}
              nodeCounts={null}
              highlightNodeId={null}
              dispatch={dispatch}
              onSelect={(s) => setSelection(s.nodes)}
            />
          </div>
          {selected && (
            <aside className="inspector-side" aria-label="Selected step">
              <Inspector
                node={selected}
                flow={state.doc}
                problems={problems}
                onChange={(patch) => dispatch({ type: 'update', nodeId: selected.id, ...patch })}
              />
            </aside>
          )}
        </div>
      </main>
    </div>
  );
}
