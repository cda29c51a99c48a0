import { type ApiErrorBody, HTTP_STATUS, type Problem } from '@sluice/shared';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DomainError, type DomainErrorKind } from '../errors.js';
import { assertJsonDepth } from '../json-depth.js';
import type { Logger } from '../logger.js';

/** An error of the HTTP layer itself (a route, a query string) answered with a 4xx naming the field at fault. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly path?: string,
    readonly problems?: Problem[],
    /** On a 403: the permission the request needs. */
    readonly permission?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * The one place a domain error becomes an HTTP status. A `Record` over every kind, so a new kind of
 * domain error does not compile until it has its status here.
 */
export const DOMAIN_STATUS: Readonly<Record<DomainErrorKind, ContentfulStatusCode>> = {
  invalid: 400,
  unauthenticated: 401,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  invalid_flow: 422,
};

/** Turns any thrown error into the JSON error body; unexpected errors are logged and answered 500. */
export function errorResponse(err: Error, c: Context, logger?: Logger): Response {
  if (err instanceof DomainError) return c.json(errorBody(err), DOMAIN_STATUS[err.kind]);
  if (err instanceof ApiError) return c.json(errorBody(err), err.status);
  if (err instanceof HTTPException) {
    return c.json({ error: { code: 'http_error', message: err.message || 'request failed' } }, err.status);
  }
  // the method and path only: a request's headers and body may hold tokens and secrets
  logger?.error({ err, method: c.req.method, path: c.req.path }, 'internal error answering a request');
  return c.json(
    { error: { code: 'internal', message: 'internal error; the server log has the details' } },
    HTTP_STATUS.INTERNAL,
  );
}

function errorBody(err: ApiError | DomainError): ApiErrorBody {
  const body: ApiErrorBody = { error: { code: err.code, message: err.message } };
  if (err.path) body.error.path = err.path;
  if (err.problems) body.error.problems = err.problems;
  if (err instanceof ApiError && err.permission) body.error.permission = err.permission;
  return body;
}

/**
 * Reads a JSON body: answers 400 when it is malformed or nested too deep, and when it is missing
 * unless `optional` (then undefined).
 */
export async function readJson(c: Context, { optional = false } = {}): Promise<unknown> {
  const text = await c.req.text();
  if (!text.trim()) {
    if (optional) return undefined;
    throw new ApiError(HTTP_STATUS.BAD_REQUEST, 'bad_request', 'request body: expected a JSON document, got nothing');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ApiError(HTTP_STATUS.BAD_REQUEST, 'bad_json', `request body: not valid JSON (${(err as Error).message})`);
  }
  assertJsonDepth(value);
  return value;
}
