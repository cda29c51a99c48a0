import type { AlertDelivery, Operations, OperationsConnection, OperationsSchedule, RunSummary } from '@sluice/shared';
import { useAlertDeliveries, useOperations } from '../../hooks/useOperations';
import { formatDuration, formatTimestamp, formatWhen, runDuration } from '../../lib/format';
import {
  describeBreaker,
  describePace,
  describeProgress,
  describeWriter,
  groupByExecutor,
  headline,
  shortLimits,
  shortWaiting,
} from '../../lib/operations';
import { describeWaiting } from '../../lib/waiting';
import { ErrorMessage } from '../ErrorMessage';
import { StatusBadge } from '../StatusBadge';
import './operations.css';

interface Props {
  /** Opens a flow in the editor (a run's or a schedule's flow). */
  onOpenFlow: (flowId: string) => void;
}

/**
 * What runs and waits now, polled every two seconds: unfinished runs per process, connections with
 * their breakers, limits and learnt pace, schedules with their next fire and last result, the run
 * store's lag and the latest alert deliveries.
 */
export function OperationsScreen({ onOpenFlow }: Props) {
  const ops = useOperations();
  const alerts = useAlertDeliveries();
  const data = ops.data;
  const now = Date.now();
  return (
    <main className="ops" data-testid="operations-screen" aria-label="Operations">
      <div className="ops-head">
        <h2 className="ops-title">Operations</h2>
        {data && (
          <span className="muted small" data-testid="ops-updated" title={formatTimestamp(data.at)}>
            Updated {formatWhen(data.at)} · every 2 s
          </span>
        )}
        {data && ops.error && (
          <span className="ops-stale" role="status">
            Not refreshed: {ops.error}
          </span>
        )}
      </div>
      {!data && ops.error && (
        <ErrorMessage title="Could not load the operations view." message={ops.error} onRetry={ops.reload} />
      )}
      {!data && !ops.error && <p className="muted ops-loading">Loading…</p>}
      {data && (
        <div className="ops-body">
          <Tiles ops={data} alerts={alerts.data} />
          <RunsCard ops={data} now={now} onOpenFlow={onOpenFlow} />
          <div className="ops-columns">
            <ConnectionsCard connections={data.connections} now={now} />
            <SchedulesCard schedules={data.schedules} now={now} onOpenFlow={onOpenFlow} />
          </div>
          <AlertsCard alerts={alerts.data} error={alerts.error} onOpenFlow={onOpenFlow} />
        </div>
      )}
    </main>
  );
}

function Tiles({ ops, alerts }: { ops: Operations; alerts: AlertDelivery[] | undefined }) {
  const h = headline(ops);
  const failedAlerts = alerts ? alerts.filter((a) => a.status === 'failed').length : null;
  const writerBehind = ops.writer.rows > 0 || ops.writer.groups > 0;
  return (
    <div className="ops-tiles" data-testid="ops-tiles">
      <Tile
        label="Running"
        value={h.running}
        note={h.waiting ? `${h.waiting} waiting` : undefined}
        testId="ops-running"
      />
      <Tile label="Queued" value={h.queued} testId="ops-queued" />
      <Tile label="Paused" value={h.paused} />
      <Tile
        label="This process"
        value={`${ops.process.executing} / ${ops.process.concurrency}`}
        note={h.elsewhere ? `${h.elsewhere} in other processes` : 'runs now / at most'}
      />
      <Tile
        label="Open breakers"
        value={h.openBreakers}
        tone={h.openBreakers ? 'bad' : undefined}
        testId="ops-open-breakers"
      />
      <Tile
        label="Writer"
        value={describeWriter(ops.writer)}
        tone={ops.writer.oldestMs !== null && ops.writer.oldestMs > 5_000 ? 'warn' : undefined}
        small={!writerBehind}
        testId="ops-writer"
      />
      <Tile label="Failed alerts" value={failedAlerts ?? '–'} tone={failedAlerts ? 'bad' : undefined} />
    </div>
  );
}

function Tile({
  label,
  value,
  note,
  tone,
  small,
  testId,
}: {
  label: string;
  value: number | string;
  note?: string | undefined;
  tone?: 'bad' | 'warn' | undefined;
  small?: boolean;
  testId?: string;
}) {
  return (
    <div className={`ops-tile${tone ? ` is-${tone}` : ''}`} data-testid={testId}>
      <span className="ops-tile-label">{label}</span>
      <span className={`ops-tile-value${small || typeof value === 'string' ? ' is-text' : ''}`}>{value}</span>
      {note && <span className="ops-tile-note">{note}</span>}
    </div>
  );
}

function Card({
  title,
  count,
  children,
  testId,
  className,
}: {
  title: string;
  count?: number;
  children: React.ReactNode;
  testId?: string;
  className?: string;
}) {
  return (
    <section className={`ops-card${className ? ` ${className}` : ''}`} data-testid={testId} aria-label={title}>
      <h3 className="ops-card-title">
        {title}
        {count !== undefined && <span className="section-count">{count}</span>}
      </h3>
      {children}
    </section>
  );
}

function RunsCard({ ops, now, onOpenFlow }: { ops: Operations; now: number; onOpenFlow: (id: string) => void }) {
  const groups = groupByExecutor(ops);
  return (
    <Card title="Runs now" count={ops.runs.length} testId="ops-runs">
      {ops.runs.length === 0 ? (
        <p className="muted ops-empty">Nothing is running or queued.</p>
      ) : (
        <div className="ops-table-wrap">
          <table className="table ops-table">
            <thead>
              <tr>
                <th>Status</th>
                <th>Flow</th>
                <th>Trigger</th>
                <th>Progress</th>
                <th>Waiting on</th>
                <th className="numeric">Running for</th>
                <th className="numeric" title="How often a process took the run up">
                  Claims
                </th>
              </tr>
            </thead>
            {groups.map((g) => (
              <tbody key={g.executor ?? 'unclaimed'} data-testid="ops-executor" data-local={g.local || undefined}>
                <tr className="ops-group">
                  <th colSpan={7} title={g.executor ?? undefined}>
                    {g.label}
                    <span className="ops-group-count">
                      {g.runs.length} run{g.runs.length === 1 ? '' : 's'}
                    </span>
                  </th>
                </tr>
                {g.runs.map((run) => (
                  <RunRow key={run.id} run={run} now={now} onOpenFlow={onOpenFlow} />
                ))}
              </tbody>
            ))}
          </table>
        </div>
      )}
    </Card>
  );
}

function RunRow({ run, now, onOpenFlow }: { run: RunSummary; now: number; onOpenFlow: (id: string) => void }) {
  const duration = runDuration(run.startedAt, null, now);
  const waiting = run.waiting ? shortWaiting(run.waiting, now) : null;
  const flowId = run.flowId;
  return (
    <tr data-testid="ops-run" data-run-id={run.id}>
      <td>
        <StatusBadge status={run.status} />
      </td>
      <td className="ops-flow-cell">
        {flowId ? (
          <button type="button" className="link-button ops-flow-link" onClick={() => onOpenFlow(flowId)}>
            {run.flowName}
          </button>
        ) : (
          run.flowName
        )}
        <span className="muted"> · run {run.runNumber ?? run.id}</span>
      </td>
      <td className="muted">{run.trigger}</td>
      <td className="ops-progress">{describeProgress(run)}</td>
      <td className="ops-waiting-cell">
        {waiting && run.waiting ? (
          <span data-testid="ops-run-waiting" title={describeWaiting(run.waiting, now)}>
            <span className={`ops-pill ops-wait-${run.waiting.kind}`}>{waiting.kind}</span> {waiting.detail}
          </span>
        ) : (
          <span className="muted">–</span>
        )}
      </td>
      <td className="numeric">{duration === null ? '–' : formatDuration(duration)}</td>
      <td className="numeric">{run.claims}</td>
    </tr>
  );
}

function ConnectionsCard({ connections, now }: { connections: OperationsConnection[]; now: number }) {
  return (
    <Card title="Connections" count={connections.length} testId="ops-connections">
      <div className="ops-table-wrap">
        <table className="table ops-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Breaker</th>
              <th>Limits</th>
              <th title="The pace adaptive pacing has learnt in this process">Learnt pace</th>
              <th>Last test</th>
            </tr>
          </thead>
          <tbody>
            {connections.map((c) => (
              <tr key={c.name} data-testid="ops-connection" data-connection={c.name}>
                <td className="mono ops-name-cell" title={c.baseUrl}>
                  {c.name}
                </td>
                <td>
                  <span
                    className={`ops-pill ops-breaker-${c.breaker?.state ?? 'unused'}`}
                    data-testid="ops-breaker"
                    data-state={c.breaker?.state ?? 'unused'}
                    title={
                      c.breaker?.openUntil ? `Holds requests until ${formatTimestamp(c.breaker.openUntil)}` : undefined
                    }
                  >
                    {describeBreaker(c, now)}
                  </span>
                </td>
                <td className="muted">{shortLimits(c)}</td>
                <td title={c.pace ? `Why it last changed: ${c.pace.reason}` : undefined}>{describePace(c)}</td>
                <td>
                  {c.status ? (
                    <span title={c.status.message ?? undefined}>
                      <span className={`ops-dot ops-dot-${c.status.state === 'ok' ? 'ok' : 'bad'}`} />
                      {c.status.state} <span className="muted">{formatWhen(c.status.checkedAt)}</span>
                    </span>
                  ) : (
                    <span className="muted">never</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

function SchedulesCard({
  schedules,
  now,
  onOpenFlow,
}: {
  schedules: OperationsSchedule[];
  now: number;
  onOpenFlow: (id: string) => void;
}) {
  return (
    <Card title="Schedules" count={schedules.length} testId="ops-schedules">
      {schedules.length === 0 ? (
        <p className="muted ops-empty">No published, enabled flow has a schedule.</p>
      ) : (
        <div className="ops-table-wrap">
          <table className="table ops-table">
            <thead>
              <tr>
                <th>Flow</th>
                <th>Schedule</th>
                <th>Next</th>
                <th>Last result</th>
              </tr>
            </thead>
            <tbody>
              {schedules.map((s) => (
                <tr key={`${s.flowId}/${s.nodeId}`} data-testid="ops-schedule">
                  <td className="ops-flow-cell">
                    <button type="button" className="link-button ops-flow-link" onClick={() => onOpenFlow(s.flowId)}>
                      {s.flowName}
                    </button>
                  </td>
                  <td title={`${s.cron} (${s.timezone})`}>{s.description}</td>
                  <td title={formatTimestamp(s.nextAt)}>
                    {s.nextAt ? `in ${formatDuration(Math.max(0, Date.parse(s.nextAt) - now))}` : '–'}
                  </td>
                  <td>
                    {s.lastRun ? (
                      <span title={s.lastSlot ? `Slot ${formatTimestamp(s.lastSlot)}` : undefined}>
                        <StatusBadge status={s.lastRun.status} />{' '}
                        <span className="muted">
                          {formatWhen(s.lastRun.finishedAt ?? s.lastSlot)}
                          {s.lastRun.failed ? ` · ${s.lastRun.failed} failed` : ''}
                        </span>
                      </span>
                    ) : (
                      <span className="muted">not fired yet</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function AlertsCard({
  alerts,
  error,
  onOpenFlow,
}: {
  alerts: AlertDelivery[] | undefined;
  error: string | null;
  onOpenFlow: (id: string) => void;
}) {
  const items = alerts ?? [];
  return (
    <Card title="Recent alert deliveries" {...(alerts ? { count: items.length } : {})} testId="ops-alerts">
      {!alerts && error && <p className="ops-empty error-text">{error}</p>}
      {!alerts && !error && <p className="muted ops-empty">Loading…</p>}
      {alerts && items.length === 0 && (
        <p className="muted ops-empty" data-testid="ops-alerts-empty">
          No alert has been sent.
        </p>
      )}
      {items.length > 0 && (
        <div className="ops-table-wrap">
          <table className="table ops-table">
            <thead>
              <tr>
                <th>When</th>
                <th>Flow</th>
                <th>Rule</th>
                <th>Channel</th>
                <th>Status</th>
                <th className="numeric">Attempts</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {items.map((a) => {
                const flowId = a.flowId;
                return (
                  <tr key={a.id} data-testid="ops-alert">
                    <td title={formatTimestamp(a.createdAt)}>{formatWhen(a.createdAt)}</td>
                    <td className="ops-flow-cell">
                      {flowId ? (
                        <button type="button" className="link-button ops-flow-link" onClick={() => onOpenFlow(flowId)}>
                          {a.flowName}
                        </button>
                      ) : (
                        (a.flowName ?? '–')
                      )}
                    </td>
                    <td>{a.rule}</td>
                    <td className="muted">{a.channel}</td>
                    <td>
                      <span className={`ops-pill ops-alert-${a.status}`}>{a.status}</span>
                    </td>
                    <td className="numeric">{a.attempts}</td>
                    <td className="error-cell" title={a.lastError ?? undefined}>
                      {a.lastError ?? ''}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
