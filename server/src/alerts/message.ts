import type { AlertCondition, AlertKind, RunCounts, RunSummary } from '@sluice/shared';

/** What an alert says, as stored with its delivery and sent (the webhook's JSON body, less its delivery id). */
export interface AlertMessage {
  type: 'sluice.alert';
  rule: { id: string; name: string; kind: AlertKind };
  flow: { id: string; name: string };
  /** The run it is about; null for a missed schedule slot. */
  run: {
    id: string;
    status: string;
    trigger: string;
    counts: RunCounts;
    error: string | null;
    startedAt: string | null;
    finishedAt: string | null;
    durationMs: number | null;
  } | null;
  /** A missed schedule slot: the schedule node, the slot's time, why it did not start a run in time. */
  slot: { nodeId: string; at: string; reason: string } | null;
  /** The alert in one line. */
  summary: string;
  /** When the alert was raised. */
  at: string;
  /** A test sent on request from the rule, not raised by a run or a slot (a receiver may drop it). */
  test?: true;
}

const number = new Intl.NumberFormat('en-US');

/** A duration in words a person reads at a glance: "4 min 3 s", "1 h 2 min", "12 s". */
export function durationText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

const percent = (share: number) => `${Number((share * 100).toFixed(2))} %`;

/** A rule's name when none was given, from its condition. */
export function defaultRuleName(c: AlertCondition): string {
  switch (c.kind) {
    case 'run-failed':
      return 'Run failed';
    case 'failed-records': {
      const parts = [
        ...(c.minFailed !== undefined ? [`${number.format(c.minFailed)} or more`] : []),
        ...(c.minShare !== undefined ? [`${percent(c.minShare)} or more`] : []),
      ];
      return `Failed records: ${parts.join(', or ')}`;
    }
    case 'run-longer':
      return `Run longer than ${durationText(c.seconds * 1000)}`;
    case 'slot-missed':
      return 'Schedule slot missed';
  }
}

/** The run as an alert carries it. */
export function runPart(run: RunSummary, now: number): NonNullable<AlertMessage['run']> {
  const started = run.startedAt ? Date.parse(run.startedAt) : null;
  const finished = run.finishedAt ? Date.parse(run.finishedAt) : null;
  return {
    id: run.id,
    status: run.status,
    trigger: run.trigger,
    counts: run.counts,
    error: run.error,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    durationMs: started === null ? null : (finished ?? now) - started,
  };
}

/** "run 12" or "run #3 (id 12)". */
const runName = (run: RunSummary) =>
  run.runNumber !== null ? `run #${run.runNumber} (id ${run.id})` : `run ${run.id}`;

/** Whether a finished run meets a rule's condition, and the alert's one line when it does. */
export function finishedRunSummary(c: AlertCondition, run: RunSummary): string | undefined {
  const { failed, read } = run.counts;
  if (c.kind === 'run-failed' && run.status === 'failed') {
    return `${run.flowName}: ${runName(run)} failed${run.error ? `: ${run.error}` : ''}`;
  }
  if (c.kind === 'failed-records' && run.status === 'succeeded' && failed > 0) {
    const share = read > 0 ? failed / read : 0;
    const overCount = c.minFailed !== undefined && failed >= c.minFailed;
    const overShare = c.minShare !== undefined && read > 0 && share >= c.minShare;
    if (!overCount && !overShare) return undefined;
    const limit = overCount ? number.format(c.minFailed ?? 0) : percent(c.minShare ?? 0);
    return `${run.flowName}: ${runName(run)} succeeded with ${number.format(failed)} of ${number.format(read)} records failed (${percent(share)}), at or over the rule's ${limit}`;
  }
  return undefined;
}

/** The one line of a run going on past a rule's duration. */
export function longRunSummary(seconds: number, run: RunSummary, now: number): string {
  const started = run.startedAt ? Date.parse(run.startedAt) : now;
  return `${run.flowName}: ${runName(run)} has been ${run.status} for ${durationText(now - started)}, longer than ${durationText(seconds * 1000)}`;
}

/** The one line of a test alert. */
export function testSummary(flowName: string, ruleName: string): string {
  return `${flowName}: a test of the alert rule "${ruleName}". Nothing happened to a run: this says the rule's channel reaches you.`;
}

/** The one line of a missed schedule slot. */
export function slotSummary(flowName: string, nodeId: string, slot: number, reason: string): string {
  return `${flowName}: the slot ${new Date(slot).toISOString()} of schedule "${nodeId}" did not start a run within a minute: ${reason}`;
}

/** The alert as plain text (Slack's text, an e-mail's body). */
export function alertText(m: AlertMessage): string {
  const lines = [m.summary, '', `Flow: ${m.flow.name} (${m.flow.id})`, `Rule: ${m.rule.name}`];
  if (m.run) {
    const c = m.run.counts;
    lines.push(
      `Run: ${m.run.id}, ${m.run.status} (trigger ${m.run.trigger})`,
      `Records: ${number.format(c.read)} read, ${number.format(c.succeeded)} succeeded, ${number.format(c.failed)} failed, ${number.format(c.filtered)} filtered`,
    );
    if (m.run.durationMs !== null) lines.push(`Duration: ${durationText(m.run.durationMs)}`);
    if (m.run.error) lines.push(`Error: ${m.run.error}`);
  }
  if (m.slot) lines.push(`Schedule: ${m.slot.nodeId}, slot ${m.slot.at}`, `Why: ${m.slot.reason}`);
  lines.push(`Raised at: ${m.at}`);
  return lines.join('\n');
}
