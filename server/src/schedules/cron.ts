import { Cron } from 'croner';
import cronstrue from 'cronstrue';

/** What to do with slots that passed while nothing was firing (downtime). */
export type CatchUp = 'none' | 'latest' | 'all';

/** A cron expression (5 fields, or 6 with seconds first) read in an IANA time zone. */
export interface ScheduleSpec {
  cron: string;
  timezone: string;
}

/** What is wrong with a schedule, and in which field. */
export interface ScheduleProblem {
  path: 'cron' | 'timezone';
  message: string;
}

/** The state `dueSlots` decides from. */
export interface DueSlotsInput {
  spec: ScheduleSpec;
  lastSlot: number | undefined;
  sinceMs: number;
  nowMs: number;
  catchUp: CatchUp;
  limit: number;
  graceMs?: number;
}

/** The slots to start runs for now, and the slot to record as the last one passed. */
export interface DueSlots {
  fire: number[];
  skipTo: number | undefined;
}

const DEFAULT_GRACE_MS = 60_000;
const SECOND_MS = 1000;
const PATTERN_OPTIONS = { mode: '5-or-6-parts', domAndDow: false } as const;

/** Returns undefined when the schedule is valid, or what is wrong with it. */
export function checkSchedule(spec: ScheduleSpec): ScheduleProblem | undefined {
  const cronMessage = cronProblem(spec.cron);
  if (cronMessage !== undefined) return { path: 'cron', message: cronMessage };
  if (!isTimeZone(spec.timezone)) {
    return { path: 'timezone', message: `timezone: "${spec.timezone}" is not an IANA time zone` };
  }
  return undefined;
}

/** Human-readable meaning, e.g. 'Every 15 minutes (UTC)'; the bare expression if cronstrue cannot read it. */
export function describeSchedule(spec: ScheduleSpec): string {
  return `${describeCron(spec.cron)} (${spec.timezone})`;
}

/** The next `count` fire times strictly after `afterMs`, as epoch ms. Throws on an invalid schedule. */
export function nextFires(spec: ScheduleSpec, afterMs: number, count: number): number[] {
  return compile(spec)
    .nextRuns(count, new Date(afterMs))
    .map((date) => date.getTime());
}

/**
 * Fire times t with afterMs < t <= untilMs, ascending, at most `limit` of them: the last `limit` if there are more.
 * Walks back from `untilMs`, so the cost is bounded by `limit`, not by how many fires the range holds.
 */
export function firesBetween(spec: ScheduleSpec, afterMs: number, untilMs: number, limit: number): number[] {
  const cron = compile(spec);
  const fires: number[] = [];
  let before = wholeSecondAfter(untilMs);
  while (fires.length < limit) {
    const previous = cron.previousRuns(1, new Date(before))[0]?.getTime();
    if (previous === undefined || previous <= afterMs) break;
    fires.push(previous);
    before = previous;
  }
  return fires.reverse();
}

/**
 * Which slots to fire now. Slots after `lastSlot` (or from `sinceMs` on, when never fired) up to `nowMs` are due;
 * slots before `sinceMs` never are. `catchUp` picks among them: 'none' only the latest, and only within `graceMs`
 * of its time; 'latest' the latest; 'all' every one, oldest first, at most the `limit` most recent.
 * `skipTo` is the latest due slot (undefined when none is due), to be stored as the last slot even if nothing fires.
 */
export function dueSlots(input: DueSlotsInput): DueSlots {
  const afterMs = Math.max(input.lastSlot ?? Number.NEGATIVE_INFINITY, input.sinceMs - 1);
  const wanted = input.catchUp === 'all' ? Math.max(input.limit, 1) : 1;
  const due = firesBetween(input.spec, afterMs, input.nowMs, wanted);
  const latest = due.at(-1);
  if (latest === undefined) return { fire: [], skipTo: undefined };
  return { fire: slotsToFire(input, due, latest), skipTo: latest };
}

function slotsToFire(input: DueSlotsInput, due: number[], latest: number): number[] {
  switch (input.catchUp) {
    case 'all':
      return input.limit > 0 ? due : [];
    case 'latest':
      return [latest];
    case 'none':
      return input.nowMs - latest <= (input.graceMs ?? DEFAULT_GRACE_MS) ? [latest] : [];
  }
}

function compile(spec: ScheduleSpec): Cron {
  const problem = checkSchedule(spec);
  if (problem) throw new Error(`Invalid schedule: ${problem.message}`);
  return new Cron(normalized(spec.cron), { ...PATTERN_OPTIONS, timezone: spec.timezone });
}

function cronProblem(expression: string): string | undefined {
  const count = fieldsOf(expression).length;
  if (count !== 5 && count !== 6) return `cron: expected 5 or 6 fields (got ${count})`;
  try {
    new Cron(normalized(expression), PATTERN_OPTIONS);
    return undefined;
  } catch (error) {
    return `cron: ${cronerMessage(error)}`;
  }
}

function cronerMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^CronPattern: /, '');
}

function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone });
    return true;
  } catch {
    return false;
  }
}

function describeCron(expression: string): string {
  try {
    return cronstrue.toString(normalized(expression), { use24HourTimeFormat: true });
  } catch {
    return normalized(expression);
  }
}

function fieldsOf(expression: string): string[] {
  return expression.split(/\s+/).filter((field) => field !== '');
}

function normalized(expression: string): string {
  return fieldsOf(expression).join(' ');
}

function wholeSecondAfter(ms: number): number {
  return Math.floor(ms / SECOND_MS) * SECOND_MS + SECOND_MS;
}
