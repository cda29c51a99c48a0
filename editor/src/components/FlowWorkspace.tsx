import type { FlowDetail, RecordOutcomeView, RunStatus } from '@sluice/shared';
import { useCallback, useState } from 'react';
import { useFailedRecords } from '../hooks/useFailedRecords';
import { useRecentRuns } from '../hooks/useRecentRuns';
import { useRunActions } from '../hooks/useRunActions';
import { useRunDetail } from '../hooks/useRunDetail';
import { isFinalStatus } from '../lib/format';
import { ErrorMessage } from './ErrorMessage';
import { FailedRecords } from './FailedRecords';
import { FlowCanvas } from './FlowCanvas';
import { ProblemList } from './ProblemList';
import { RecentRuns } from './RecentRuns';
import { RecordDetail } from './RecordDetail';
import { RunPanel } from './RunPanel';

interface Props {
  flowId: string;
  flow: FlowDetail | undefined;
  error: string | null;
  onReload: () => void;
}

/** Everything about one open flow: canvas, run panel, failed records and recent runs. */
export function FlowWorkspace({ flowId, flow, error, onReload }: Props) {
  const [shown, setShown] = useState<{ runId: string; status: RunStatus | null } | null>(null);
  const [record, setRecord] = useState<RecordOutcomeView | null>(null);
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

  const nodes = flow?.document.nodes;
  const nodeLabel = useCallback(
    (nodeId: string) => nodes?.find((n) => n.id === nodeId)?.name?.trim() || nodeId,
    [nodes],
  );

  return (
    <div className="workspace">
      <aside className="flow-side" aria-label="Open flow">
        {flow && <ProblemList problems={flow.problems} />}
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
        <div className="canvas-area">
          {error && <ErrorMessage title="Could not open the flow." message={error} onRetry={onReload} />}
          {flow ? (
            <FlowCanvas
              key={flow.versionId}
              flow={flow.document}
              problems={flow.problems}
              nodeCounts={run?.nodeCounts ?? null}
              highlightNodeId={record?.nodeId ?? null}
            />
          ) : (
            !error && <div className="placeholder">Loading flow…</div>
          )}
        </div>
        <div className="dock">
          <RunPanel
            runId={runId}
            run={run}
            status={status}
            pollError={pollError}
            actions={actions}
            canRun={flow !== undefined}
          />
          {runId === null ? (
            <div className="dock-hint muted">
              The failed records of a run are listed here, with why each one failed.
            </div>
          ) : (
            <FailedRecords
              records={failed}
              finished={finished}
              failedCount={failedCount}
              selected={record}
              nodeLabel={nodeLabel}
              onSelect={setRecord}
            />
          )}
          {record && (
            <RecordDetail
              flowId={flowId}
              record={record}
              nodeLabel={nodeLabel}
              onClose={() => setRecord(null)}
              onOpenRun={openRun}
            />
          )}
        </div>
      </main>
    </div>
  );
}
