import type { Flow, Problem } from '@sluice/shared';
import { Cron } from 'croner';

/**
 * The server's check of a schedule (server/src/schedules/cron.ts: croner, 5 or 6 fields, the same
 * pattern options; an IANA time zone), made in the browser while the user types, worded the same so a
 * saved flow's problems read the same as the draft's. The server stays the judge when the flow is saved.
 */
const PATTERN_OPTIONS = { mode: '5-or-6-parts', domAndDow: false } as const;

const fieldsOf = (expression: string) => expression.split(/\s+/).filter((field) => field !== '');

/** croner's reason a cron expression cannot be read ("cron: …"), or undefined when it can. */
export function cronProblem(expression: string): string | undefined {
  const fields = fieldsOf(expression);
  if (fields.length !== 5 && fields.length !== 6) return `cron: expected 5 or 6 fields (got ${fields.length})`;
  try {
    new Cron(fields.join(' '), PATTERN_OPTIONS);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return `cron: ${message.replace(/^CronPattern: /, '')}`;
  }
}

function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** The reason a time zone is refused ("timezone: …"), or undefined. */
export function timeZoneProblem(timeZone: string): string | undefined {
  return isTimeZone(timeZone) ? undefined : `timezone: "${timeZone}" is not an IANA time zone`;
}

/** The problems of the schedule nodes of a flow, as the server reports them (code `bad-schedule`). */
export function scheduleProblems(flow: Flow): Problem[] {
  const problems: Problem[] = [];
  flow.nodes.forEach((node, i) => {
    if (node.type !== 'schedule') return;
    const { cron, timezone } = node.params as { cron: unknown; timezone: unknown };
    if (typeof cron !== 'string' || typeof timezone !== 'string') return;
    const cronMessage = cronProblem(cron);
    const found = cronMessage
      ? { field: 'cron', message: cronMessage }
      : timeZoneProblem(timezone) && { field: 'timezone', message: timeZoneProblem(timezone) as string };
    if (!found) return;
    const path = `nodes[${i}].params.${found.field}`;
    problems.push({
      severity: 'error',
      code: 'bad-schedule',
      path,
      message: `${path}: ${found.message}`,
      nodeId: node.id,
    });
  });
  return problems;
}
