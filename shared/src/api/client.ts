/**
 * The typed client of the HTTP API, made from the contract: `call('getRun', { params: { id } })` builds
 * the request from the route's entry and answers the body typed by the route's schema. It uses the
 * runtime's `fetch` (browsers and Node 20 both have one), so it runs in the editor and in the CLI alike.
 * The token belongs to whoever makes the client; nothing is kept between clients.
 */
import type { Problem } from '../validate.js';
import {
  type AnswerOf,
  type ApiContract,
  apiContract,
  type CallInput,
  type RouteName,
  type SuccessSpec,
} from './contract.js';
import { HTTP_STATUS } from './http-status.js';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface ApiClientOptions {
  /** Where the server is, e.g. `http://localhost:3000`; empty for the page's own origin (the editor). */
  baseUrl?: string;
  /** The API token, sent as `Authorization: Bearer …`. */
  token?: string | null;
  /**
   * Signing in with the session cookie instead of a token: the CSRF token of the session (as
   * `GET /api/session` or the login answered it), sent as `X-CSRF-Token` on every call that may change
   * something, and the cookie sent with same-origin requests.
   */
  csrfToken?: () => string | null;
  /** The fetch to use; the runtime's by default (tests pass the app's own request function). */
  fetch?: FetchLike;
  /**
   * Parse every answer with the route's declared schema and throw when it does not match. Off by
   * default: the types already come from the contract, and parsing big pages costs; tests turn it on.
   */
  validate?: boolean;
  /** Called when the server refuses the token (401), before the error is thrown. */
  onUnauthorized?: () => void;
}

/** A call that did not get a success answer: the server's error (status, code, message, field), or none at all (status 0). */
export class ApiClientError extends Error {
  readonly status: number;
  readonly code: string;
  readonly path: string | undefined;
  readonly problems: Problem[];

  constructor(status: number, code: string, message: string, path?: string, problems: Problem[] = []) {
    super(message);
    this.name = 'ApiClientError';
    this.status = status;
    this.code = code;
    this.path = path;
    this.problems = problems;
  }
}

/** The client's own error codes (the server's are its own strings). */
export const CLIENT_ERROR_CODES = { network: 'network', badResponse: 'bad_response' } as const;

/** The arguments of `call` for a route: the input may be left out when nothing in it is required. */
export type CallArgs<R extends RouteName> =
  object extends CallInput<ApiContract[R]>
    ? [input?: CallInput<ApiContract[R]> & { signal?: AbortSignal }]
    : [input: CallInput<ApiContract[R]> & { signal?: AbortSignal }];

export interface ApiClient {
  /** Calls a route by name; answers its success body, or throws an ApiClientError. */
  call<R extends RouteName>(route: R, ...args: CallArgs<R>): Promise<AnswerOf<ApiContract[R]>>;
  /** The address a call would use (for links and event streams). */
  url<R extends RouteName>(route: R, ...args: CallArgs<R>): string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads an error answer (`{ error: { code, message, path? } }`, or anything else a proxy may send) into an ApiClientError. */
export function errorFromResponse(status: number, statusText: string, body: string): ApiClientError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const error = isRecord(parsed) ? parsed.error : undefined;
  if (isRecord(error) && typeof error.message === 'string') {
    const code = typeof error.code === 'string' ? error.code : `http-${status}`;
    const path = typeof error.path === 'string' ? error.path : undefined;
    const problems = Array.isArray(error.problems) ? (error.problems as Problem[]) : [];
    return new ApiClientError(status, code, error.message, path, problems);
  }
  const text = body.trim().startsWith('<') ? '' : body.trim().slice(0, 200);
  const what = `The server answered ${status}${statusText ? ` ${statusText}` : ''}`;
  return new ApiClientError(status, `http-${status}`, text ? `${what}: ${text}` : `${what}.`);
}

/** A route's path with its parameters filled in, and its query string. */
function address(path: string, params: unknown, query: unknown): string {
  const values = isRecord(params) ? params : {};
  const filled = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(values[name] ?? '')));
  const parts: string[] = [];
  if (isRecord(query)) {
    for (const [name, value] of Object.entries(query)) {
      // an empty filter means "no filter", as in the editor's forms
      if (value === undefined || value === null || value === '') continue;
      parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
    }
  }
  return parts.length ? `${filled}?${parts.join('&')}` : filled;
}

export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
  const doFetch: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));

  const url = <R extends RouteName>(route: R, ...[input]: CallArgs<R>): string =>
    baseUrl + address(apiContract[route].path, input?.params, input?.query);

  async function call<R extends RouteName>(route: R, ...args: CallArgs<R>): Promise<AnswerOf<ApiContract[R]>> {
    const entry = apiContract[route];
    const [input] = args;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const init: RequestInit = { method: entry.method.toUpperCase(), headers, signal: input?.signal ?? null };
    if (options.csrfToken) {
      init.credentials = 'same-origin';
      const csrf = entry.method === 'get' ? null : options.csrfToken();
      if (csrf) headers['x-csrf-token'] = csrf;
    }
    const body: unknown = input?.body;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      // a flow document may come as the text of a file: sent as it is, so the server reports its own parse errors
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const target = url(route, ...args);
    let response: Response;
    try {
      response = await doFetch(target, init);
    } catch (err) {
      if (input?.signal?.aborted) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      throw new ApiClientError(
        0,
        CLIENT_ERROR_CODES.network,
        `Cannot reach the Sluice server${baseUrl ? ` at ${baseUrl}` : ''} (${reason}).`,
      );
    }
    const text = await response.text();
    if (response.status === HTTP_STATUS.UNAUTHORIZED) options.onUnauthorized?.();
    if (!response.ok) throw errorFromResponse(response.status, response.statusText, text);
    const success: SuccessSpec = entry.success;
    if (!success.schema || text === '') return undefined as AnswerOf<ApiContract[R]>;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiClientError(
        response.status,
        CLIENT_ERROR_CODES.badResponse,
        `The server answered ${entry.method.toUpperCase()} ${entry.path} with something that is not JSON.`,
      );
    }
    if (options.validate) {
      const parsed = success.schema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const at = issue?.path.map(String).join('.') ?? '';
        throw new ApiClientError(
          response.status,
          CLIENT_ERROR_CODES.badResponse,
          `The answer of ${route} does not match its schema: ${at || 'body'}: ${issue?.message ?? 'invalid'}`,
          at || undefined,
        );
      }
      return parsed.data as AnswerOf<ApiContract[R]>;
    }
    // typed by the contract; checked against the schema only when asked to (validate)
    return json as AnswerOf<ApiContract[R]>;
  }

  return { call, url };
}
