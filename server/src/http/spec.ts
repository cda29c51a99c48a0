import {
  type ApiContract,
  apiContract,
  apiErrorBodySchema,
  type HandlerInput,
  HTTP_STATUS,
  type Method,
  type ReplyOf,
  type RouteContract,
  type RouteName,
} from '@sluice/shared';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { ApiError, readJson } from './errors.js';

/** A route the app serves: its name in the contract, and the contract entry itself. */
export interface RegisteredRoute {
  name: RouteName;
  method: Method;
  path: string;
  spec: RouteContract;
}

/**
 * What a handler answers: the success body its route declares (the router sends it with the declared
 * status), or, for a stream, the Response it builds.
 */
type Answer<R extends RouteContract> = R['success'] extends { stream: true } ? Response : ReplyOf<R>;

export type Handler<R extends RouteContract> = (c: Context, input: HandlerInput<R>) => Answer<R> | Promise<Answer<R>>;

/**
 * What became of one request to a route, for the audit log: the inputs as far as they were validated
 * (raw path parameters when even those were refused), and the answer or the error thrown.
 */
export interface RouteDone {
  name: RouteName;
  input: { params: Record<string, unknown>; body?: unknown };
  answer?: unknown;
  error?: unknown;
}

/**
 * The routes of the API, registered from the contract: the entry fixes method, path, the schemas that
 * validate the request, and the status and schema of the answer; `routes` feeds the OpenAPI document
 * and the bad-input tests. With `checkAnswers` (tests), every answer is parsed with its schema before
 * it is sent, so drift between the code and the contract fails loudly.
 */
export class ApiRouter {
  readonly routes: RegisteredRoute[] = [];

  constructor(
    private readonly app: Hono,
    private readonly options: {
      checkAnswers?: boolean;
      /** Called once when a request to a route has been handled or refused, before the answer is sent. */
      onDone?: (c: Context, done: RouteDone) => Promise<void>;
      /** Refuses a request the caller may not make (throws), before its input is read. */
      authorize?: (c: Context, name: RouteName) => void;
    } = {},
  ) {}

  add<N extends RouteName>(name: N, handler: Handler<ApiContract[N]>): void {
    const spec: RouteContract = apiContract[name];
    this.routes.push({ name, method: spec.method, path: spec.path, spec });
    const honoPath = spec.path.replace(/\{(\w+)\}/g, ':$1');
    const { checkAnswers = false, onDone, authorize } = this.options;
    this.app.on(spec.method.toUpperCase(), honoPath, async (c) => {
      const input: RouteDone['input'] = { params: c.req.param() };
      let answer: unknown;
      try {
        // a caller refused by its role is refused before its input is read (and recorded as refused)
        authorize?.(c, name);
        const params = spec.params ? parse(spec.params, c.req.param(), 'path') : {};
        input.params = params as Record<string, unknown>;
        const query = spec.query ? parse(spec.query, queryObject(c), 'query') : {};
        const body = spec.body
          ? parse(spec.body, await readJson(c, { optional: true }), 'body')
          : spec.rawBody
            ? await readJson(c)
            : undefined;
        input.body = body;
        // the schemas above made these values; their types are the contract's (HandlerInput)
        answer = await handler(c, { params, query, body } as HandlerInput<ApiContract[N]>);
      } catch (error) {
        await onDone?.(c, { name, input, error });
        throw error;
      }
      await onDone?.(c, { name, input, answer });
      const { success } = spec;
      if (success.stream) {
        if (answer instanceof Response) return answer;
        throw new Error(`the stream route ${name} answered something other than a Response`);
      }
      if (success.status === HTTP_STATUS.NO_CONTENT) return c.body(null, success.status);
      if (checkAnswers && success.schema) checkAnswer(name, success.schema, answer);
      return c.json(answer, success.status);
    });
  }
}

/** Throws (a 500) when an answer does not match its declared schema; used in tests. */
function checkAnswer(name: string, schema: z.ZodType, answer: unknown): void {
  const result = schema.safeParse(answer);
  if (result.success) return;
  const issue = result.error.issues[0];
  throw new Error(
    `the answer of ${name} does not match its schema at ${issue?.path.map(String).join('.') || 'the top'}: ${issue?.message}`,
  );
}

/** The query string as an object; a parameter given twice keeps its last value. */
function queryObject(c: Context): Record<string, string> {
  return c.req.query();
}

/** Validates input, answering 400 with a message that names the field (404 for a path that names nothing). */
export function parse<T extends z.ZodType>(schema: T, value: unknown, where: 'path' | 'query' | 'body'): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.map(String).join('.') || (where === 'body' ? 'request body' : where);
  const code = where === 'query' ? 'bad_query' : where === 'path' ? 'not_found' : 'bad_request';
  if (where === 'path')
    throw new ApiError(HTTP_STATUS.NOT_FOUND, code, `${field}: ${issue?.message ?? 'not found'}`, field);
  throw new ApiError(HTTP_STATUS.BAD_REQUEST, code, `${field}: ${issue?.message ?? 'invalid'}`, field);
}

/** The OpenAPI 3.1 document of the registered routes. */
export function openApiDocument(
  routes: readonly RegisteredRoute[],
  info: { version: string },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { method, path, spec } of routes) {
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['path', spec.params],
      ['query', spec.query],
    ] as const) {
      if (!schema) continue;
      const json = toJsonSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(json.properties ?? {})) {
        parameters.push({
          name,
          in: where,
          required: where === 'path' || (json.required ?? []).includes(name),
          schema: s,
          ...((s as { description?: string }).description
            ? { description: (s as { description: string }).description }
            : {}),
        });
      }
    }
    const op: Record<string, unknown> = {
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: [spec.tag],
      parameters,
      responses: responsesOf(spec),
      ...(spec.auth === false ? { security: [] } : {}),
    };
    if (spec.body) {
      op.requestBody = { required: true, content: { 'application/json': { schema: toJsonSchema(spec.body) } } };
    } else if (spec.rawBody) {
      op.requestBody = {
        required: true,
        description: spec.rawBody.description,
        content: { [spec.rawBody.contentType]: { schema: spec.rawBody.schema ?? {} } },
      };
    }
    paths[path] ??= {};
    (paths[path] as Record<string, unknown>)[method] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Sluice API',
      version: info.version,
      description:
        'Flows, runs, record history, schedules, webhooks and connections. Every route under /api except /api/health, /api/ready, /api/auth/login and /api/auth/setup needs `Authorization: Bearer <token>` or the session cookie that signing in sets (then with the session’s `X-CSRF-Token` header on every state-changing request), and the permission its role grants (403 names it); so does /metrics (Prometheus text, not described here) unless SLUICE_METRICS_PUBLIC=1.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: toJsonSchema(apiErrorBodySchema, 'output'),
      },
    },
    paths,
  };
}

/** The answers of a route: its success (with its body's JSON Schema) and its errors (the error body). */
function responsesOf(spec: RouteContract): Record<string, unknown> {
  const { success } = spec;
  const content = success.stream
    ? { 'text/event-stream': { schema: { type: 'string' } } }
    : success.schema
      ? { 'application/json': { schema: toJsonSchema(success.schema, 'output') } }
      : undefined;
  const responses: Record<string, unknown> = {
    [success.status]: { description: success.description, ...(content ? { content } : {}) },
  };
  for (const [status, description] of Object.entries(spec.errors ?? {})) {
    responses[status] = {
      description,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  return responses;
}

/** JSON Schema of a zod schema: as a request is written (input) or as an answer is sent (output). */
function toJsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}
