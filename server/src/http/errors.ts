import type { ApiErrorBody, Problem } from '@sluice/shared';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** An error the API answers with a 4xx and a message that names the field at fault. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly path?: string,
    readonly problems?: Problem[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const notFound = (what: string, id: string) => new ApiError(404, 'not_found', `${what} "${id}" does not exist`);

/** Turns any thrown error into the JSON error body; unexpected errors are logged and answered 500. */
export function errorResponse(err: Error, c: Context): Response {
  if (err instanceof ApiError) {
    const body: ApiErrorBody = { error: { code: err.code, message: err.message } };
    if (err.path) body.error.path = err.path;
    if (err.problems) body.error.problems = err.problems;
    return c.json(body, err.status);
  }
  if (err instanceof HTTPException) {
    return c.json({ error: { code: 'http_error', message: err.message || 'request failed' } }, err.status);
  }
  console.error(err);
  return c.json({ error: { code: 'internal', message: 'internal error; the server log has the details' } }, 500);
}

/** Reads a JSON body, answering 400 with a clear message when it is missing or malformed. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (!text.trim()) throw new ApiError(400, 'bad_request', 'request body: expected a JSON document, got nothing');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, 'bad_json', `request body: not valid JSON (${(err as Error).message})`);
  }
}

/** Parses an integer query parameter within bounds, or answers 400 naming the parameter. */
export function intParam(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ApiError(400, 'bad_query', `${name}: must be a whole number from ${min} to ${max}`, name);
  }
  return n;
}
