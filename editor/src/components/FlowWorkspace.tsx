import { type FlowDetail, type RecordOutcomeView, type RunStatus, validateFlow } from '@sluice/shared';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { describeError, useApi } from '../api';
import { useEstimate } from '../hooks/useEstimate';
import { useFailedRecords } from '../hooks/useFailedRecords';
import { useFlowEditor } from '../hooks/useFlowEditor';
import { useRecentRuns } from '../hooks/useRecentRuns';
import { useRetry } from '../hooks/useRetry';
import { useRunActions } from '../hooks/useRunActions';
import { useRunDetail } from '../hooks/useRunDetail';
import { useTestRun } from '../hooks/useTestRun';
import { autoLayout } from '../lib/auto-layout';
import { type Clipboard, copySelection, createNode, pasteable } from '../lib/editing';
import { draftEstimate, partsOf } from '../lib/estimate';
import { isFinalStatus } from '../lib/format';
import { upstreamOf } from '../lib/graph';
import { MAX_SAMPLE_RECORDS, sampleRecordsOf } from '../lib/inspector/samples';
import { isTyping } from '../lib/keys';
import { inputRecords, testedText, useTestData } from '../lib/test-data';
import { AlertsPanel } from './alerts/AlertsPanel';
import { DockResizer, useDockHeight } from './DockResizer';
import type { Draft } from './DraftWorkspace';
import { EditorToolbar } from './EditorToolbar';
import { ErrorMessage } from './ErrorMessage';
import { FailedRecords } from './FailedRecords';
import { FlowCanvas } from './FlowCanvas';
import { ErrorGroups } from './history/ErrorGroups';
import { RecordsTable } from './history/RecordsTable';
import { RecordTimeline } from './history/RecordTimeline';
import { RunsList } from './history/RunsList';
import { ThroughputChart } from './history/ThroughputChart';
import { Inspector } from './inspector/Inspector';
import { NodeDataPanel } from './NodeDataPanel';

type DockTab = 'data' | 'failed' | 'records' | 'errors' | 'throughput' | 'runs' | 'timeline';
const DOCK_TABS: [DockTab, string][] = [
  ['data', 'Node data'],
  ['failed', 'Failed records'],
  ['records', 'All records'],
  ['errors', 'Errors by message'],
  ['throughput', 'Records per second'],
  ['runs', 'Run history'],
  ['timeline', 'Record history'],
];

import { useCan } from '../session';
import { Palette } from './Palette';
import { ProblemList } from './ProblemList';
import { RecentRuns } from './RecentRuns';
import { RecordDetail } from './RecordDetail';
import { RetryDialog } from './RetryDialog';
import { RunPanel } from './RunPanel';
import { VersionsPanel } from './VersionsPanel';

interface Props {
  flowId: string;
  flow: FlowDetail | undefined;
  error: string | null;
  onReload: () => void;
  /** A flow was imported (or restored into a new flow): open it. */
  onOpenFlow: (flowId: string) => void;
  /** How many problems the list shows, so the header says the same number. */
  onProblemCount?: (count: number) => void;
  /** An imported file has problems: open it as an unsaved draft. */
  onOpenDraft?: (draft: Draft) => void;
  /** Tells the app the flow's name and whether it has unsaved changes, and how to rename and save it. */
  onState?: (state: WorkspaceState) => void;
}

/** What the app needs of the open flow: its name, unsaved changes, rename and save. */
export interface WorkspaceState {
  name: string;
  dirty: boolean;
  rename: (name: string) => void;
  save: () => Promise<unknown>;
}

/** Everything about one open flow: palette, canvas, toolbar, run panel, failed records and recent runs. */
export function FlowWorkspace({
  flowId,
  flow,
  error,
  onReload,
  onOpenFlow,
  onOpenDraft,
  onState,
  onProblemCount,
}: Props) {
  const api = useApi();
  const [shown, setShown] = useState<{ runId: string; status: RunStatus | null } | null>(null);
  const [record, setRecord] = useState<RecordOutcomeView | null>(null);
  const [selection, setSelection] = useState<{ nodes: string[]; edges: string[] }>({ nodes: [], edges: [] });
  const [showVersions, setShowVersions] = useState(false);
  const [showAlerts, setShowAlerts] = useState(false);
  const [tab, setTab] = useState<DockTab>('failed');
  const [timelineKey, setTimelineKey] = useState<string | undefined>(undefined);
  const [viewing, setViewing] = useState<{ version: number; doc: FlowDetail } | null>(null);
  const clipboard = useRef<Clipboard | null>(null);
  const editor = useFlowEditor(flowId, flow, onReload);
  const dock = useDockHeight();
  const runId = shown?.runId ?? null;
  const { run, error: pollError } = useRunDetail(runId);
  const status = run?.status ?? shown?.status ?? null;
  const finished = isFinalStatus(status);

  const openRun = useCallback((id: string, initialStatus: RunStatus | null = null) => {
    setShown({ runId: id, status: initialStatus });
    setRecord(null);
  }, []);
  const actions = useRunActions(flowId, openRun);
  const recent = useRecentRuns(flowId, `${runId ?? ''}:${finished}`);
  const failedCount = run?.counts.failed ?? 0;
  const failed = useFailedRecords(runId, runId === null ? '' : `${failedCount}:${finished}`);
  const { dispatch, doc, setMessage } = editor;
  const serverEstimate = useEstimate(flowId, `${flow?.versionId ?? ''}:${runId ?? ''}:${finished}`);
  const [expectedRecords, setExpectedRecords] = useState<number | undefined>(undefined);
  const estimate = useMemo(
    () => draftEstimate(doc, serverEstimate.data, expectedRecords),
    [doc, serverEstimate.data, expectedRecords],
  );
  const testRun = useTestRun(flowId, doc);
  const testData = useTestData(flowId);
  const [dataNode, setDataNode] = useState<string | null>(null);
  const selectedId = selection.nodes.length === 1 ? (selection.nodes[0] ?? null) : null;
  useEffect(() => {
    if (selectedId) setDataNode(selectedId);
  }, [selectedId]);
  // a test that finished shows its data
  const testedRun = testData.status === 'done' ? testData.runId : null;
  useEffect(() => {
    if (testedRun) setTab('data');
  }, [testedRun]);
  // a retry keeps the record being looked at open: its history shows the retry's outcome once it ends
  const showRetry = useCallback((id: string, started: RunStatus) => setShown({ runId: id, status: started }), []);
  const retryFailed = useCallback((text: string) => setMessage({ kind: 'error', text }), [setMessage]);
  const retry = useRetry({
    run: run?.id === runId ? run : undefined,
    finished,
    latestVersion: flow?.latestVersion ?? null,
    unsaved: editor.dirty,
    current: flow?.document,
    nodeLabel: (id) => doc.nodes.find((n) => n.id === id)?.name?.trim() || id,
    onStarted: showRetry,
    onError: retryFailed,
  });
  const endedKey = `${runId ?? ''}:${finished}`;
  const editorRef = useRef(editor);
  editorRef.current = editor;
  useEffect(() => {
    if (!flow) return;
    onState?.({
      name: doc.name,
      dirty: editor.dirty,
      rename: (name) => editorRef.current.rename(name),
      save: () => editorRef.current.save(),
    });
  }, [doc.name, editor.dirty, flow, onState]);

  // Run saves unsaved changes first: a run always runs a saved version; Retry asks which version
  const runActions = useMemo(
    () => ({
      ...actions,
      retry: retry.retryAll,
      start: () => {
        if (!editor.dirty) return actions.start();
        void editor.save().then((saved) => {
          if (saved && !saved.problems.some((p) => p.severity === 'error')) actions.start();
        });
      },
    }),
    [actions, editor, retry.retryAll],
  );

  const nodeLabel = useCallback(
    (nodeId: string) => doc.nodes.find((n) => n.id === nodeId)?.name?.trim() || nodeId,
    [doc.nodes],
  );

  const layout = useCallback(() => dispatch({ type: 'move', positions: autoLayout(doc) }), [dispatch, doc]);

  const addAtFreeSpot = useCallback(
    (type: string) => {
      const right = doc.nodes.reduce((x, n) => Math.max(x, (n.position?.x ?? 0) + 260), 0);
      dispatch({ type: 'add', node: { ...createNodeOf(doc, type), position: { x: right, y: 80 } } });
    },
    [dispatch, doc],
  );

  const publish = useCallback(() => {
    if (!flow) return;
    api.call('publishFlow', { params: { id: flowId }, body: { version: flow.latestVersion } }).then(
      (f) => {
        setMessage({ kind: 'info', text: `Version ${f.version} is published: schedules and webhooks run it.` });
        onReload();
      },
      (e: unknown) => setMessage({ kind: 'error', text: `Could not publish: ${describeError(e)}` }),
    );
  }, [api, flow, flowId, onReload, setMessage]);

  // a file that can be read but has problems opens as an unsaved draft; only a clean one is saved at once
  const importFile = useCallback(
    async (file: File) => {
      try {
        const text = await file.text();
        let raw: unknown;
        try {
          raw = JSON.parse(text);
        } catch (e) {
          throw new Error(`not JSON (${e instanceof Error ? e.message : String(e)})`);
        }
        const local = validateFlow(raw);
        if (!local.flow) throw new Error(`not a flow document: ${local.problems[0]?.message ?? 'unreadable'}`);
        const checked = await api.call('validateFlow', { body: raw });
        if (!checked.ok && onOpenDraft) {
          onOpenDraft({ doc: local.flow, fileName: file.name, problems: checked.problems });
          return;
        }
        const created = await api.call('createFlow', { body: raw });
        onOpenFlow(created.id);
      } catch (e) {
        setMessage({ kind: 'error', text: `Could not import ${file.name}: ${describeError(e)}` });
      }
    },
    [api, onOpenFlow, onOpenDraft, setMessage],
  );

  const view = useCallback(
    (version: number | null) => {
      if (version === null) return setViewing(null);
      api.call('getFlow', { params: { id: flowId }, query: { version } }).then(
        (d) => setViewing({ version, doc: d }),
        (e: unknown) => setMessage({ kind: 'error', text: describeError(e) }),
      );
    },
    [api, flowId, setMessage],
  );

  const restore = useCallback(
    (version: number) => {
      const params = { id: flowId };
      api
        .call('getFlow', { params, query: { version } })
        .then((old) => api.call('saveFlow', { params, body: old.document }))
        .then(
          (saved) => {
            setViewing(null);
            setMessage({ kind: 'info', text: `Version ${version} restored as version ${saved.version}.` });
            onReload();
          },
          (e: unknown) => setMessage({ kind: 'error', text: `Could not restore: ${describeError(e)}` }),
        );
    },
    [api, flowId, onReload, setMessage],
  );

  const canRun = flow !== undefined && editor.errors === 0 && viewing === null;

  // keyboard: run / test / undo / redo / copy / paste / save; Delete is the canvas's own
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || isTyping(e.target) || viewing) return;
      const key = e.key.toLowerCase();
      if (key === 'enter' && e.shiftKey) {
        if (flow && !testRun.testing) testRun.test();
      } else if (key === 'enter') {
        if (canRun && !(status === 'running' || status === 'queued')) runActions.start();
      } else if (key === 'z' && !e.shiftKey) dispatch({ type: 'undo' });
      else if ((key === 'z' && e.shiftKey) || key === 'y') dispatch({ type: 'redo' });
      else if (key === 'c' && selection.nodes.length) clipboard.current = copySelection(doc, selection.nodes);
      else if (key === 'v' && clipboard.current) dispatch({ type: 'paste', ...pasteable(doc, clipboard.current) });
      else if (key === 's') void editor.save();
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [dispatch, doc, editor, selection.nodes, viewing, canRun, status, runActions, flow, testRun]);

  // an old version, or a role that may not change flows: nothing to edit
  const can = useCan();
  const readOnly = viewing !== null || !can('flows.write');
  const liveKey = `${runId ?? ''}:${status ?? ''}:${run?.batches.length ?? 0}`;
  const batchesSoFar = run?.batches.length ?? null;
  const batchProgress = useMemo(
    () => (batchesSoFar === null ? null : { current: batchesSoFar, total: batchTotal(doc) }),
    [batchesSoFar, doc],
  );
  const recordPath = useMemo(
    () => (record ? [record.nodeId, ...upstreamOf(doc, record.nodeId)] : undefined),
    [doc, record],
  );
  const selectedNode = selection.nodes.length === 1 ? doc.nodes.find((n) => n.id === selection.nodes[0]) : undefined;
  // what expressions are completed from and tried on: the record being looked at, else the node's
  // input in the last test (or the pinned data feeding it), else what the source would give
  const sampleRecords = useMemo(() => {
    if (record?.payload && typeof record.payload === 'object') return sampleRecordsOf(doc, record);
    const tested = selectedNode ? inputRecords(testData, doc, selectedNode.id) : [];
    return tested.length ? tested.slice(0, MAX_SAMPLE_RECORDS) : sampleRecordsOf(doc, record);
  }, [doc, record, selectedNode, testData]);
  const shownDoc = viewing ? viewing.doc.document : doc;
  const shownProblems = viewing ? viewing.doc.problems : editor.problems;
  const problemCount = flow ? shownProblems.length : 0;
  useEffect(() => onProblemCount?.(problemCount), [onProblemCount, problemCount]);

  return (
    <div className="workspace">
      <aside className="flow-side" aria-label="Open flow">
        {flow && <ProblemList problems={shownProblems} doc={shownDoc} />}
        {!readOnly && <Palette onAdd={addAtFreeSpot} />}
        <RecentRuns
          runs={recent.data}
          loading={recent.loading}
          error={recent.error}
          selectedRunId={runId}
          onSelect={openRun}
          onReload={recent.reload}
        />
      </aside>
      <main className="workspace-main">
        <EditorToolbar
          flow={flow}
          editor={editor}
          readOnly={readOnly}
          onLayout={layout}
          onPublish={publish}
          testRun={testRun}
          onToggleVersions={() => {
            setShowAlerts(false);
            setShowVersions((v) => !v);
          }}
          onToggleAlerts={() => {
            setShowVersions(false);
            setShowAlerts((v) => !v);
          }}
          onImport={(f) => void importFile(f)}
          onToggleEnabled={(enabled) =>
            api.call('setFlowEnabled', { params: { id: flowId }, body: { enabled } }).then(
              () => {
                setMessage({
                  kind: 'info',
                  text: enabled ? 'Schedules and webhooks are on.' : 'Schedules and webhooks are off.',
                });
                onReload();
              },
              (e: unknown) => setMessage({ kind: 'error', text: describeError(e) }),
            )
          }
        />
        {viewing && (
          <div className="viewing-banner" data-testid="viewing-banner">
            Viewing version {viewing.version} (read-only).
            <button type="button" className="button button-small" onClick={() => restore(viewing.version)}>
              Restore it as the latest version
            </button>
            <button type="button" className="button button-small" onClick={() => setViewing(null)}>
              Back to the latest
            </button>
          </div>
        )}
        <div className="canvas-row">
          <div className="canvas-area">
            {error && <ErrorMessage title="Could not open the flow." message={error} onRetry={onReload} />}
            {flow ? (
              <FlowCanvas
                key={viewing ? `v${viewing.version}` : flowId}
                doc={shownDoc}
                openedDoc={viewing ? viewing.doc.document : flow.document}
                problems={shownProblems}
                nodeCounts={
                  viewing
                    ? null
                    : tab === 'data' && testData.nodeCounts
                      ? testData.nodeCounts
                      : (run?.nodeCounts ?? null)
                }
                highlightNodeId={record?.nodeId ?? null}
                waiting={run?.waiting ?? null}
                batchProgress={batchProgress}
                {...(recordPath ? { highlightPath: recordPath } : {})}
                running={status === 'running'}
                readOnly={readOnly}
                dispatch={dispatch}
                onSelect={setSelection}
                onRefused={(text) => setMessage({ kind: 'error', text: `Cannot connect: ${text}.` })}
              />
            ) : (
              !error && <div className="placeholder">Loading flow…</div>
            )}
          </div>
          {selectedNode && !viewing && !showVersions && !showAlerts && (
            <aside className="inspector-side" aria-label="Selected step">
              <Inspector
                node={selectedNode}
                flow={doc}
                problems={editor.problems}
                estimate={partsOf(estimate, selectedNode.id)}
                expectedRecords={expectedRecords}
                onExpectedRecords={setExpectedRecords}
                tested={testedText(testData, selectedNode.id)}
                sampleRecords={sampleRecords}
                onChange={(patch) => dispatch({ type: 'update', nodeId: selectedNode.id, ...patch })}
              />
            </aside>
          )}
          {showAlerts && !showVersions && (
            <aside className="inspector-side" aria-label="Flow settings: alerts">
              <AlertsPanel flowId={flowId} />
            </aside>
          )}
          {showVersions && (
            <aside className="inspector-side">
              <VersionsPanel
                flowId={flowId}
                refreshKey={flow?.versionId ?? ''}
                viewing={viewing?.version ?? null}
                onView={view}
                onRestore={restore}
              />
            </aside>
          )}
        </div>
        {retry.dialog && <RetryDialog {...retry.dialog} />}
        <DockResizer height={dock.height} onResize={dock.setHeight} />
        <div className="dock" style={{ height: dock.height }} data-testid="dock">
          <RunPanel
            runId={runId}
            run={run}
            status={status}
            pollError={pollError}
            actions={runActions}
            canRun={flow !== undefined && editor.errors === 0 && viewing === null}
            estimate={estimate}
          />
          <div className="dock-tabs">
            <div className="dock-tab-bar" role="tablist">
              {DOCK_TABS.map(([id, label]) => (
                <button
                  type="button"
                  key={id}
                  role="tab"
                  aria-selected={tab === id}
                  className={`dock-tab${tab === id ? ' is-active' : ''}`}
                  data-testid={`dock-tab-${id}`}
                  onClick={() => setTab(id)}
                >
                  {label}
                </button>
              ))}
            </div>
            <div className="dock-tab-body">
              {tab === 'runs' && (
                <RunsList flowId={flowId} selectedRunId={runId} onSelect={openRun} refreshKey={liveKey} />
              )}
              {tab === 'timeline' && (
                <RecordTimeline
                  flowId={flowId}
                  refreshKey={endedKey}
                  {...(timelineKey ? { initialKey: timelineKey } : {})}
                  onOpenRun={(id) => openRun(id)}
                  nodeLabel={nodeLabel}
                />
              )}
              {tab === 'data' && (
                <NodeDataPanel
                  doc={doc}
                  data={testData}
                  nodeId={dataNode ?? doc.nodes.find((n) => testData.nodes[n.id])?.id ?? null}
                  onPickNode={setDataNode}
                  nodeLabel={nodeLabel}
                  onTestTo={(id) => testRun.test(id)}
                  onPin={(id, records) => dispatch({ type: 'pin', nodeId: id, records })}
                  onUnpin={(id) => dispatch({ type: 'unpin', nodeId: id })}
                  readOnly={readOnly}
                  testing={testRun.testing}
                />
              )}
              {!['runs', 'timeline', 'data'].includes(tab) && runId === null && (
                <div className="dock-hint muted">
                  Run the flow, or pick a run: its failed records, all its records, its errors grouped by message and
                  its records per second show here.
                </div>
              )}
              {tab === 'failed' && runId !== null && (
                <FailedRecords
                  records={failed}
                  finished={finished}
                  failedCount={failedCount}
                  selected={record}
                  nodeLabel={nodeLabel}
                  onSelect={setRecord}
                  {...(retry.pick ? { pick: retry.pick } : {})}
                />
              )}
              {tab === 'records' && runId !== null && (
                <RecordsTable
                  runId={runId}
                  nodeIds={doc.nodes.map((n) => n.id)}
                  nodeLabel={nodeLabel}
                  onSelect={setRecord}
                  selectedKey={record?.key ?? null}
                  refreshKey={liveKey}
                />
              )}
              {tab === 'errors' && runId !== null && (
                <ErrorGroups
                  runId={runId}
                  nodeLabel={nodeLabel}
                  refreshKey={liveKey}
                  onPickKey={(key) => {
                    setTimelineKey(key);
                    setTab('timeline');
                  }}
                />
              )}
              {tab === 'throughput' && runId !== null && <ThroughputChart batches={run?.batches ?? []} />}
            </div>
          </div>
          {record && (
            <RecordDetail
              flowId={flowId}
              record={record}
              nodeLabel={nodeLabel}
              onClose={() => setRecord(null)}
              onOpenRun={openRun}
              refreshKey={endedKey}
              {...(retry.detail(record) ? { retry: retry.detail(record) } : {})}
            />
          )}
        </div>
      </main>
    </div>
  );
}

function createNodeOf(doc: FlowDetail['document'], type: string) {
  return createNode(doc, type, { x: 0, y: 0 });
}

/** How many batches a run will cut, when the source says how many records it gives and there is one batch node. */
function batchTotal(doc: FlowDetail['document']): number | null {
  const batches = doc.nodes.filter((n) => n.type === 'batch');
  if (batches.length !== 1) return null;
  let records = 0;
  for (const n of doc.nodes) {
    if (n.type === 'generate') records += Number(n.params.count ?? 1000);
    else if (n.type === 'inline-records') records += (n.params.records as unknown[] | undefined)?.length ?? 0;
    else if (['http-source', 'webhook', 'entity-source', 'file-source', 'sql-source'].includes(n.type)) return null;
  }
  const size = Number(batches[0]?.params.size ?? 50);
  return records > 0 && size > 0 ? Math.ceil(records / size) : null;
}
