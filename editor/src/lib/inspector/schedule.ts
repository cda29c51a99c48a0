import { CATCH_UP_POLICIES, OVERLAP_POLICIES } from '@sluice/shared';

export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];
export type CatchUpPolicy = (typeof CATCH_UP_POLICIES)[number];

/** One line per overlap policy: what happens when a run is still going at the next fire. */
export const OVERLAP_EXPLANATIONS: Record<OverlapPolicy, string> = {
  skip: 'Skip the fire while a run of this flow is still going.',
  queue: 'Start the run anyway; it waits in the queue behind the running one.',
  'cancel-previous': 'Cancel the running run and start the new one.',
};

/** One line per catch-up policy: what happens to fires missed while Sluice was down. */
export const CATCH_UP_EXPLANATIONS: Record<CatchUpPolicy, string> = {
  none: 'Drop missed fires (a fire less than a minute late still runs).',
  latest: 'Run once for the most recent missed fire.',
  all: 'Run once for every missed fire, oldest first, up to the limit.',
};

/** The answer of GET /api/schedules/preview. */
export type { SchedulePreview } from '@sluice/shared';
export { CATCH_UP_POLICIES, OVERLAP_POLICIES };

/** What the server says for a schedule it cannot read (it answers 200 with no fire times). */
export const INVALID_SCHEDULE = 'not a valid schedule';

/** The query of GET /api/schedules/preview: the cron trimmed, and the zone unless it is empty (the server's default). */
export function previewQuery(cron: string, timezone: string): { cron: string; timezone?: string } {
  return timezone.trim() ? { cron: cron.trim(), timezone: timezone.trim() } : { cron: cron.trim() };
}

let zones: string[] | null = null;

/** The IANA time zones this browser knows, UTC first. */
export function timeZones(): string[] {
  if (zones) return zones;
  let list: string[] = [];
  try {
    list = Intl.supportedValuesOf('timeZone');
  } catch {
    list = [];
  }
  zones = ['UTC', ...list.filter((z) => z !== 'UTC')];
  return zones;
}

/** Whether the browser accepts a time zone name (the server decides in the end). */
export function isTimeZone(zone: string): boolean {
  if (!zone) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** A fire time in the schedule's time zone: "Tue 1 Dec 2026, 02:00". Falls back to the ISO text. */
export function formatFireTime(iso: string, timeZone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  try {
    return new Intl.DateTimeFormat('en-GB', {
      timeZone: isTimeZone(timeZone) ? timeZone : 'UTC',
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: date.getUTCSeconds() ? '2-digit' : undefined,
      hourCycle: 'h23',
    }).format(date);
  } catch {
    return iso;
  }
}

/** How far ahead a fire time is: "in 5 min", "in 3 h", "in 2 d". */
export function timeUntil(iso: string, now: number = Date.now()): string {
  const ms = Date.parse(iso) - now;
  if (Number.isNaN(ms)) return '';
  if (ms < 60_000) return 'in less than a minute';
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.round(ms / 3_600_000);
  if (hours < 48) return `in ${hours} h`;
  return `in ${Math.round(ms / 86_400_000)} d`;
}
