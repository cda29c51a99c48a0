import { checkFlowForRun } from '@sluice/engine/expressions';
import { describeProblem, type Flow, type Problem } from '@sluice/shared';
import { scheduleProblems } from './schedule-check';

/**
 * Every problem the server would report on saving `doc`, worked out in the browser as it is edited:
 * the flow format's (validateFlow), expressions that do not compile (the engine's own check), and
 * schedules croner cannot read.
 */
export function draftProblems(doc: Flow): Problem[] {
  const result = checkFlowForRun(doc);
  return result.flow ? [...result.problems, ...scheduleProblems(result.flow)] : result.problems;
}

/** A problem as people read it: "Create in ERP → URL: required". */
export function problemMessage(doc: unknown, problem: Problem): string {
  return describeProblem((doc ?? {}) as Parameters<typeof describeProblem>[0], problem).message;
}

/** Errors first, then warnings; otherwise in the order found. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  return [...problems].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
}
