import type { FlowDetail } from '@sluice/shared';
import { useRef } from 'react';
import type { FlowEditor } from '../hooks/useFlowEditor';
import type { TestRun } from '../hooks/useTestRun';
import { useCan } from '../session';
import { TestControls } from './TestControls';

interface Props {
  flow: FlowDetail | undefined;
  editor: FlowEditor;
  readOnly: boolean;
  onLayout: () => void;
  onPublish: () => void;
  onToggleVersions: () => void;
  /** Shows or hides the flow's alert rules and deliveries; absent: no Alerts button. */
  onToggleAlerts?: () => void;
  onImport: (file: File) => void;
  onToggleEnabled: (enabled: boolean) => void;
  /** Test runs of the draft; absent: no Test button. */
  testRun?: TestRun;
}

const isMac = typeof navigator !== 'undefined' && /Mac/.test(navigator.platform);
const mod = isMac ? '⌘' : 'Ctrl+';

/** Save, undo, redo, layout, publish, versions, import and export of the open flow. */
export function EditorToolbar({
  flow,
  editor,
  readOnly,
  onLayout,
  onPublish,
  onToggleVersions,
  onToggleAlerts,
  onImport,
  onToggleEnabled,
  testRun,
}: Props) {
  const fileInput = useRef<HTMLInputElement>(null);
  // a role that may not change flows sees none of the buttons that do (the API refuses them too)
  const can = useCan();
  const edit = can('flows.write');
  const exportFlow = () => {
    const blob = new Blob([`${JSON.stringify(editor.doc, null, 2)}\n`], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${(editor.doc.name || 'flow').replace(/[^\w.-]+/g, '-').toLowerCase()}.flow.json`;
    a.click();
    URL.revokeObjectURL(a.href);
  };
  const published = flow?.publishedVersion ?? null;
  return (
    <div className="editor-toolbar" role="toolbar" aria-label="Flow">
      {edit && (
        <>
          <button
            type="button"
            className="button button-small button-primary"
            data-testid="save-button"
            disabled={readOnly || !editor.dirty || editor.saving}
            onClick={() => void editor.save()}
            title={`Save as a new version (${mod}S)`}
          >
            {editor.saving ? 'Saving…' : editor.dirty ? 'Save' : 'Saved'}
          </button>
          <button
            type="button"
            className="button button-small"
            data-testid="undo-button"
            disabled={readOnly || !editor.canUndo}
            onClick={() => editor.dispatch({ type: 'undo' })}
            title={`Undo (${mod}Z)`}
          >
            Undo
          </button>
          <button
            type="button"
            className="button button-small"
            data-testid="redo-button"
            disabled={readOnly || !editor.canRedo}
            onClick={() => editor.dispatch({ type: 'redo' })}
            title={`Redo (${mod}Shift+Z)`}
          >
            Redo
          </button>
          <button
            type="button"
            className="button button-small"
            data-testid="layout-button"
            disabled={readOnly}
            onClick={onLayout}
          >
            Tidy up
          </button>
        </>
      )}
      {testRun && can('flows.test') && <TestControls run={testRun} disabled={readOnly || editor.errors > 0 || !flow} />}
      <span className="toolbar-gap" />
      {edit && (
        <>
          <button
            type="button"
            className="button button-small"
            data-testid="publish-button"
            disabled={readOnly || editor.dirty || editor.errors > 0 || !flow}
            onClick={onPublish}
            title={
              editor.dirty
                ? 'Save first'
                : editor.errors
                  ? 'Fix the problems first'
                  : 'Schedules and webhooks run the published version'
            }
          >
            {published !== null && flow && published === flow.latestVersion ? `Published v${published}` : 'Publish'}
          </button>
          <label
            className="toolbar-toggle"
            title="While off, schedules do not fire and webhooks refuse records; nothing missed is caught up when it is turned on."
          >
            <input
              type="checkbox"
              data-testid="enabled-toggle"
              checked={flow?.enabled ?? true}
              disabled={!flow}
              onChange={(e) => onToggleEnabled(e.target.checked)}
            />
            Schedules and webhooks on
          </label>
        </>
      )}
      <button type="button" className="button button-small" data-testid="versions-button" onClick={onToggleVersions}>
        Versions
      </button>
      {onToggleAlerts && (
        <button
          type="button"
          className="button button-small"
          data-testid="alerts-button"
          disabled={!flow}
          onClick={onToggleAlerts}
          title="Alert rules of this flow and their recent deliveries"
        >
          Alerts
        </button>
      )}
      <button type="button" className="button button-small" data-testid="export-button" onClick={exportFlow}>
        Export
      </button>
      {edit && (
        <>
          <button
            type="button"
            className="button button-small"
            data-testid="import-button"
            onClick={() => fileInput.current?.click()}
          >
            Import
          </button>
          <input
            ref={fileInput}
            type="file"
            accept=".json,application/json"
            hidden
            data-testid="import-file"
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) onImport(file);
              e.target.value = '';
            }}
          />
        </>
      )}
      {editor.message && (
        <span
          className={`toolbar-message ${editor.message.kind === 'error' ? 'is-error' : ''}`}
          data-testid="editor-message"
          role={editor.message.kind === 'error' ? 'alert' : 'status'}
        >
          {editor.message.text}
        </span>
      )}
    </div>
  );
}
