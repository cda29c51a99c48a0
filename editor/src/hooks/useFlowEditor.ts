import type { Flow, FlowDetail, Problem } from '@sluice/shared';
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { describeError, useApi } from '../api';
import { type EditAction, editReducer, initialState, isDirty } from '../lib/editing';
import { draftProblems } from '../lib/problems';

const EMPTY: Flow = {
  format: 2,
  name: '',
  settings: { onError: 'continue', maxInFlight: 10_000 },
  nodes: [],
  edges: [],
};

export interface FlowEditor {
  doc: Flow;
  dirty: boolean;
  canUndo: boolean;
  canRedo: boolean;
  /** The document's problems: checked in the browser as it changes (as the server would), the server's once saved. */
  problems: Problem[];
  errors: number;
  dispatch: (action: EditAction) => void;
  saving: boolean;
  message: { kind: 'error' | 'info'; text: string } | null;
  setMessage: (m: FlowEditor['message']) => void;
  /** Saves a new version (drafts with problems too); resolves with the saved flow, or undefined on failure. */
  save: () => Promise<FlowDetail | undefined>;
  /** Renames the flow: saved at once when there is nothing else unsaved, else one more unsaved change. */
  rename: (name: string) => void;
}

/** The open flow as an editable document: undo/redo, live problems, save as a new version. */
export function useFlowEditor(
  flowId: string,
  flow: FlowDetail | undefined,
  onSaved: (f: FlowDetail) => void,
): FlowEditor {
  const [state, dispatch] = useReducer(editReducer, flow?.document ?? EMPTY, initialState);
  const api = useApi();
  const [saving, setSaving] = useState(false);
  const [message, setMessage] = useState<FlowEditor['message']>(null);
  const loaded = useRef<string | null>(null);

  // a flow opened (or another version loaded): start editing it; our own saves are already in the state
  useEffect(() => {
    if (!flow || loaded.current === flow.versionId) return;
    loaded.current = flow.versionId;
    dispatch({ type: 'load', doc: flow.document });
  }, [flow]);

  const dirty = isDirty(state);
  const problems = useMemo(() => {
    if (!dirty && flow) return flow.problems;
    return draftProblems(state.doc);
  }, [dirty, flow, state.doc]);

  const saveDoc = useCallback(
    async (doc: Flow) => {
      setSaving(true);
      try {
        const saved = await api.call('saveFlow', { params: { id: flowId }, body: doc });
        loaded.current = saved.versionId;
        dispatch({ type: 'saved', doc: saved.document });
        const errors = saved.problems.filter((p) => p.severity === 'error').length;
        setMessage({
          kind: 'info',
          text: errors
            ? `Saved as version ${saved.version}, a draft with ${errors} problem(s) to fix before it can run or be published.`
            : `Saved as version ${saved.version}.`,
        });
        onSaved(saved);
        return saved;
      } catch (error) {
        setMessage({ kind: 'error', text: describeError(error) });
        return undefined;
      } finally {
        setSaving(false);
      }
    },
    [api, flowId, onSaved],
  );
  const save = useCallback(() => saveDoc(state.doc), [saveDoc, state.doc]);

  const rename = useCallback(
    (name: string) => {
      const trimmed = name.trim();
      if (!trimmed || trimmed === state.doc.name) return;
      dispatch({ type: 'rename-flow', name: trimmed });
      if (!dirty) void saveDoc({ ...state.doc, name: trimmed });
    },
    [dirty, saveDoc, state.doc],
  );

  return {
    doc: state.doc,
    dirty,
    canUndo: state.past.length > 0,
    canRedo: state.future.length > 0,
    problems,
    errors: problems.filter((p) => p.severity === 'error').length,
    dispatch,
    saving,
    message,
    setMessage,
    save,
    rename,
  };
}
