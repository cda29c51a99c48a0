import type {
  FlowDetail,
  FlowSummary,
  Page,
  Problem,
  RecordOutcomeView,
  RecordStatus,
  RunDetail,
  RunStatus,
  RunSummary,
} from '@sluice/shared';
import { getToken, notifyUnauthorized } from './lib/token';

/** A failed call to the API, with a message fit to show as it is. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly path: string | undefined;
  readonly problems: Problem[];

  constructor(status: number, code: string, message: string, path?: string, problems: Problem[] = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.path = path;
    this.problems = problems;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads an error answer (`{ error: { code, message, path? } }` or anything else) into an ApiError. */
export function errorFromResponse(status: number, statusText: string, body: string): ApiError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const error = isRecord(parsed) ? parsed['error'] : undefined;
  if (isRecord(error) && typeof error['message'] === 'string') {
    const code = typeof error['code'] === 'string' ? error['code'] : `http-${status}`;
    const path = typeof error['path'] === 'string' ? error['path'] : undefined;
    const problems = Array.isArray(error['problems']) ? (error['problems'] as Problem[]) : [];
    return new ApiError(status, code, error['message'], path, problems);
  }
  const text = body.trim().startsWith('<') ? '' : body.trim().slice(0, 200);
  const what = `The server answered ${status}${statusText ? ` ${statusText}` : ''}`;
  return new ApiError(status, `http-${status}`, text ? `${what}: ${text}` : `${what}.`);
}

/** A message for anything a call can throw. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const head =
      error.path && !error.message.includes(`${error.path}:`) ? `${error.message} (at ${error.path})` : error.message;
    const errors = error.problems.filter((p) => p.severity === 'error' && !head.includes(p.message));
    const listed = errors.slice(0, 5).map((p) => `• ${p.message}`);
    if (errors.length > 5) listed.push(`• and ${errors.length - 5} more`);
    return [head, ...listed].join('\n');
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

export async function request<T>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  signal?: AbortSignal,
  payload?: unknown,
): Promise<T> {
  let response: Response;
  try {
    const token = getToken();
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const init: RequestInit = { method, headers, signal: signal ?? null };
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    }
    response = await fetch(url, init);
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiError(0, 'network', 'Cannot reach the Sluice server. Is it running?');
  }
  const body = await response.text();
  if (response.status === 401) notifyUnauthorized();
  if (!response.ok) throw errorFromResponse(response.status, response.statusText, body);
  if (body === '') return undefined as T;
  try {
    return JSON.parse(body) as T;
  } catch {
    throw new ApiError(response.status, 'bad-response', `The server answered ${url} with something that is not JSON.`);
  }
}

const enc = encodeURIComponent;

export const api = {
  listFlows: (signal?: AbortSignal) => request<Page<FlowSummary>>('GET', '/api/flows', signal),

  getFlow: (flowId: string, signal?: AbortSignal) => request<FlowDetail>('GET', `/api/flows/${enc(flowId)}`, signal),

  startRun: (flowId: string) => request<{ runId: string; status: RunStatus }>('POST', `/api/flows/${enc(flowId)}/runs`),

  getRun: (runId: string, signal?: AbortSignal) => request<RunDetail>('GET', `/api/runs/${enc(runId)}`, signal),

  cancelRun: (runId: string) => request<unknown>('POST', `/api/runs/${enc(runId)}/cancel`),

  pauseRun: (runId: string) => request<unknown>('POST', `/api/runs/${enc(runId)}/pause`),

  resumeRun: (runId: string) => request<unknown>('POST', `/api/runs/${enc(runId)}/resume`),

  /** Retries the failed records of a finished run on its original flow version. */
  retryRun: (runId: string) => request<{ runId: string; status: RunStatus }>('POST', `/api/runs/${enc(runId)}/retry`),

  listRuns: (flowId: string, limit = 20, signal?: AbortSignal) =>
    request<Page<RunSummary>>('GET', `/api/runs?flowId=${enc(flowId)}&limit=${limit}`, signal),

  listRecords: (
    runId: string,
    query: { status: RecordStatus; limit: number; cursor?: string | null },
    signal?: AbortSignal,
  ) => {
    let url = `/api/runs/${enc(runId)}/records?status=${enc(query.status)}&limit=${query.limit}`;
    if (query.cursor) url += `&cursor=${enc(query.cursor)}`;
    return request<Page<RecordOutcomeView>>('GET', url, signal);
  },

  recordHistory: (flowId: string, key: string, signal?: AbortSignal) =>
    request<{ items: RecordOutcomeView[] }>('GET', `/api/flows/${enc(flowId)}/records/${enc(key)}`, signal),
};
