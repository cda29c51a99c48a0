/** The audit screen's logic without React: its filters as a query, and an entry's summary in words. */
import type { AuditEntry } from '@sluice/shared';

/** What the filter bar holds: text as typed, dates as the date inputs give them (YYYY-MM-DD, local). */
export interface AuditFilters {
  actor: string;
  action: string;
  objectType: string;
  objectId: string;
  outcome: '' | 'ok' | 'refused' | 'failed';
  from: string;
  to: string;
}

export const NO_FILTERS: AuditFilters = {
  actor: '',
  action: '',
  objectType: '',
  objectId: '',
  outcome: '',
  from: '',
  to: '',
};

/** The kinds of object the log names, for the filter's list. */
export const AUDIT_OBJECT_TYPES = [
  'flow',
  'run',
  'connection',
  'token',
  'alert_rule',
  'webhook',
  'retention',
  'backup',
] as const;

/** The query of `GET /api/audit` for the filters: empty ones left out; `to` takes in the whole day. */
export function auditQuery(f: AuditFilters): {
  actorId?: string;
  action?: string;
  objectType?: string;
  objectId?: string;
  outcome?: 'ok' | 'refused' | 'failed';
  from?: string;
  to?: string;
} {
  const day = (d: string, plusDays = 0) => {
    const at = new Date(`${d}T00:00:00`);
    at.setDate(at.getDate() + plusDays);
    return at.toISOString();
  };
  return {
    ...(f.actor.trim() ? { actorId: f.actor.trim() } : {}),
    ...(f.action.trim() ? { action: f.action.trim() } : {}),
    ...(f.objectType ? { objectType: f.objectType } : {}),
    ...(f.objectId.trim() ? { objectId: f.objectId.trim() } : {}),
    ...(f.outcome ? { outcome: f.outcome } : {}),
    ...(f.from ? { from: day(f.from) } : {}),
    ...(f.to ? { to: day(f.to, 1) } : {}),
  };
}

/** Who, as a person reads it: the name, and what kind of actor it is unless that is a token. */
export function describeActor(actor: AuditEntry['actor']): string {
  if (actor.kind === 'token') return actor.name;
  if (actor.kind === 'cli' || actor.kind === 'system') return actor.name;
  return `${actor.name} (${actor.kind})`;
}

/** The summary in one line: `key: value` pairs, lists joined by commas. */
export function describeSummary(summary: AuditEntry['summary']): string {
  if (!summary) return '';
  return Object.entries(summary)
    .map(
      ([k, v]) =>
        `${k}: ${Array.isArray(v) ? v.join(', ') : typeof v === 'object' && v ? JSON.stringify(v) : String(v)}`,
    )
    .join(' · ');
}
