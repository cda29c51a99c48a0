import type { ApiContract, CallInput, RecordStatus, RouteName, RunStatus, TriggerKind } from '@sluice/shared';

/** One group of `GET /api/runs/:id/errors`: failed records with the same error at the same node. */
export type { ErrorGroup } from '@sluice/shared';

export interface RunFilters {
  status: RunStatus | '';
  trigger: TriggerKind | '';
  /** ISO 8601 instants (created at or after / before), or '' for no bound. */
  from: string;
  to: string;
}

export interface RecordFilters {
  status: RecordStatus | '';
  /** A node id, or '' for every node. */
  node: string;
  /** An exact record key, or '' for every key. */
  key: string;
}

/** The query a route takes, as the typed client sends it. */
type QueryOf<R extends RouteName> = NonNullable<CallInput<ApiContract[R]>['query']>;

/** An empty filter is no filter; a first page has no cursor. */
const given = <T extends string>(value: T | '' | null): T | undefined =>
  value === '' || value === null ? undefined : value;

/** `GET /api/runs` for one flow, newest first: filters, page size and the cursor of the page to read. */
export function runsQuery(
  flowId: string,
  filters: RunFilters,
  limit: number,
  cursor: string | null,
): QueryOf<'listRuns'> {
  return {
    flowId,
    status: given(filters.status),
    trigger: given(filters.trigger),
    from: given(filters.from),
    to: given(filters.to),
    limit,
    cursor: given(cursor),
  };
}

/** `GET /api/runs/:id/records`, in read order. */
export function recordsQuery(filters: RecordFilters, limit: number, cursor: string | null): QueryOf<'listRecords'> {
  return {
    status: given(filters.status),
    node: given(filters.node),
    key: given(filters.key),
    limit,
    cursor: given(cursor),
  };
}

/**
 * The value of a datetime-local input ("2026-05-01T14:03", local time) as an ISO 8601 instant for the API;
 * '' when it is empty or not a date.
 */
export function localInputToIso(value: string): string {
  if (!value.trim()) return '';
  // Date-time forms without an offset are read as local time.
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

/** How many rows to ask for when reloading a list that shows `loaded` rows: whole pages, within the API's limit. */
export function refreshLimit(loaded: number, pageSize: number, max: number): number {
  const pages = Math.max(1, Math.ceil(loaded / pageSize));
  return Math.min(max, pages * pageSize);
}
