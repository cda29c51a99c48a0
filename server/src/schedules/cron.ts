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

const CRONSTRUE_OPTIONS = { use24HourTimeFormat: true } as const;
/** Most times of day a description lists one by one; more read better as cronstrue words them. */
const MAX_LISTED_TIMES = 8;

function describeCron(expression: string): string {
  const fields = fieldsOf(expression);
  try {
    return listedTimes(fields) ?? betweenHours(fields, cronstrue.toString(fields.join(' '), CRONSTRUE_OPTIONS));
  } catch {
    return normalized(expression);
  }
}

/**
 * cronstrue words each time field on its own when they are not all single values, so `0 15,45 5 * * *`
 * reads "At 15 and 45 minutes past the hour, at 05:00", as if it fired at 05:00 too. When second,
 * minute and hour are plain numbers (or short lists of them), this names the times of day instead
 * ("At 05:15 and 05:45"), followed by cronstrue's wording of the days. Undefined when it does not apply.
 */
function listedTimes(fields: string[]): string | undefined {
  const [second, minute, hour, ...days] = fields.length === 6 ? fields : ['0', ...fields];
  const seconds = numbers(second, 59);
  const minutes = numbers(minute, 59);
  const hours = numbers(hour, 23);
  if (!seconds || !minutes || !hours) return undefined;
  if (seconds.length * minutes.length * hours.length > MAX_LISTED_TIMES) return undefined;
  // one time needs no help: cronstrue already words it as one ("At 05:40:30")
  if (seconds.length * minutes.length * hours.length === 1) return undefined;
  const withSeconds = seconds.some((s) => s !== 0);
  const times: string[] = [];
  for (const h of hours)
    for (const m of minutes)
      for (const sec of seconds) times.push(`${pad(h)}:${pad(m)}${withSeconds ? `:${pad(sec)}` : ''}`);
  // cronstrue's wording of the days, taken from a schedule with the same days at midnight
  const midnight = cronstrue.toString(`0 0 ${days.join(' ')}`, CRONSTRUE_OPTIONS);
  if (!midnight.startsWith('At 00:00')) return undefined;
  return `At ${joinAnd(times)}${midnight.slice('At 00:00'.length)}`;
}

/**
 * With a list of hours and minutes that are not one value (every 15 minutes at hours 5 and 17), cronstrue ends with
 * "at 05:00 and 17:00", which reads as two more times: say which hours instead.
 */
function betweenHours(fields: string[], description: string): string {
  const hour = fields.length === 6 ? fields[2] : fields[1];
  const hours = hour === undefined ? undefined : numbers(hour, 23);
  if (!hours || hours.length < 2) return description;
  // cronstrue's list: "05:00 and 17:00", "05:00, 17:00, and 20:00"
  const listed = hours.map((h) => `${pad(h)}:00`);
  const at = `, at ${listed.length === 2 ? listed.join(' and ') : `${listed.slice(0, -1).join(', ')}, and ${listed.at(-1)}`}`;
  if (!description.includes(at)) return description;
  return description.replace(at, `, ${joinAnd(hours.map((h) => `between ${pad(h)}:00 and ${pad(h)}:59`))}`);
}

/** The values of a field made only of numbers and commas (`5`, `15,45`), sorted; else undefined. */
function numbers(field: string | undefined, max: number): number[] | undefined {
  if (field === undefined || !/^\d{1,2}(,\d{1,2})*$/.test(field)) return undefined;
  const values = [...new Set(field.split(',').map(Number))].sort((a, b) => a - b);
  return values.every((v) => v <= max) ? values : undefined;
}

function joinAnd(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
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
