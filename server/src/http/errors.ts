import { type ApiErrorBody, HTTP_STATUS, type Problem } from '@sluice/shared';
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

export const notFound = (what: string, id: string) =>
  new ApiError(HTTP_STATUS.NOT_FOUND, 'not_found', `${what} "${id}" does not exist`);

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
  return c.json(
    { error: { code: 'internal', message: 'internal error; the server log has the details' } },
    HTTP_STATUS.INTERNAL,
  );
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

/** Deepest nesting of arrays and objects accepted in a request body (JSON that deep is never a record). */
export const MAX_JSON_DEPTH = 64;

/** Answers 400 when a parsed JSON value nests deeper than MAX_JSON_DEPTH (checked without recursion). */
export function assertJsonDepth(value: unknown, where = 'request body'): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_JSON_DEPTH)
      throw new ApiError(HTTP_STATUS.BAD_REQUEST, 'too_deep', `${where}: nested deeper than ${MAX_JSON_DEPTH} levels`);
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
}
