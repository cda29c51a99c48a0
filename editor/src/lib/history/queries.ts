import type { RecordStatus, RunStatus, TriggerKind } from '@sluice/shared';

/** One group of `GET /api/runs/:id/errors`: failed records with the same error at the same node. */
export interface ErrorGroup {
  message: string;
  code: string | null;
  httpStatus: number | null;
  nodeId: string;
  count: number;
  /** A few keys of records that failed this way. */
  sampleKeys: string[];
}

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

const enc = encodeURIComponent;

function withQuery(path: string, params: Record<string, string | number | null | undefined>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    parts.push(`${name}=${enc(String(value))}`);
  }
  return parts.length ? `${path}?${parts.join('&')}` : path;
}

/** `GET /api/runs` for one flow, newest first: filters, page size and the cursor of the page to read. */
export function runsUrl(flowId: string, filters: RunFilters, limit: number, cursor: string | null): string {
  return withQuery('/api/runs', {
    flowId,
    status: filters.status,
    trigger: filters.trigger,
    from: filters.from,
    to: filters.to,
    limit,
    cursor,
  });
}

/** `GET /api/runs/:id/records`, in read order. */
export function recordsUrl(runId: string, filters: RecordFilters, limit: number, cursor: string | null): string {
  return withQuery(`/api/runs/${enc(runId)}/records`, {
    status: filters.status,
    node: filters.node,
    key: filters.key,
    limit,
    cursor,
  });
}

/** `GET /api/runs/:id/errors`. */
export function errorsUrl(runId: string, limit?: number): string {
  return withQuery(`/api/runs/${enc(runId)}/errors`, { limit });
}

/** `GET /api/flows/:id/records/:key`: the key's outcomes across the flow's runs, newest run first. */
export function recordTimelineUrl(flowId: string, key: string, limit?: number): string {
  return withQuery(`/api/flows/${enc(flowId)}/records/${enc(key)}`, { limit });
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
