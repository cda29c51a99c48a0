import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { ApiError, readJson } from './errors.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** What a route takes and answers; the same zod schemas validate requests and make the OpenAPI document. */
export interface RouteSpec<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  summary: string;
  description?: string;
  tag: string;
  params?: P;
  query?: Q;
  /** A JSON body, validated before the handler runs. */
  body?: B;
  /** A body the handler reads itself (a flow document, JSON lines): documented only. */
  rawBody?: { contentType: string; schema?: Record<string, unknown>; description: string };
  /** Answers, by status: a description, and a schema when the answer is JSON worth describing. */
  responses: Record<number, string>;
  /** False for the routes that need no token (health, webhooks). */
  auth?: boolean;
  /** Server-sent events rather than JSON. */
  stream?: boolean;
}

export interface RegisteredRoute {
  method: Method;
  path: string;
  spec: RouteSpec;
}

export interface Input<P, Q, B> {
  params: P;
  query: Q;
  body: B;
}

/** Routes of the API with their specs; `routes` feeds the OpenAPI document and the bad-input tests. */
export class ApiRouter {
  readonly routes: RegisteredRoute[] = [];

  constructor(private readonly app: Hono) {}

  add<P extends z.ZodType = z.ZodObject, Q extends z.ZodType = z.ZodObject, B extends z.ZodType = z.ZodUnknown>(
    method: Method,
    path: string,
    spec: RouteSpec<P, Q, B>,
    handler: (c: Context, input: Input<z.output<P>, z.output<Q>, z.output<B>>) => Response | Promise<Response>,
  ): void {
    this.routes.push({ method, path, spec: spec as unknown as RouteSpec });
    const honoPath = path.replace(/\{(\w+)\}/g, ':$1');
    this.app.on(method.toUpperCase(), honoPath, async (c) => {
      const params = spec.params ? parse(spec.params, c.req.param(), 'path') : {};
      const query = spec.query ? parse(spec.query, queryObject(c), 'query') : {};
      const body = spec.body ? parse(spec.body, await readJson(c, { optional: true }), 'body') : undefined;
      return handler(c, { params, query, body } as Input<z.output<P>, z.output<Q>, z.output<B>>);
    });
  }
}

/** The query string as an object; a parameter given twice keeps its last value. */
function queryObject(c: Context): Record<string, string> {
  return c.req.query();
}

/** Validates input, answering 400 with a message that names the field. */
export function parse<T extends z.ZodType>(schema: T, value: unknown, where: 'path' | 'query' | 'body'): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.map(String).join('.') || (where === 'body' ? 'request body' : where);
  const code = where === 'query' ? 'bad_query' : where === 'path' ? 'not_found' : 'bad_request';
  if (where === 'path') throw new ApiError(404, code, `${field}: ${issue?.message ?? 'not found'}`, field);
  throw new ApiError(400, code, `${field}: ${issue?.message ?? 'invalid'}`, field);
}

/** Reads a JSON body, answering 400 when it is missing or malformed. */
export const readJsonBody = (c: Context) => readJson(c);

/** Schemas for common parameters. */
export const p = {
  runId: z.object({ id: z.string().regex(/^[1-9]\d{0,15}$/, 'not a run id') }),
  flowId: z.object({ id: z.string().min(1).max(100) }),
  limit: (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback),
  cursor: z
    .string()
    .regex(/^-?\d{1,16}$/, 'not a cursor this API returned')
    .transform(Number)
    .optional(),
};

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
      responses: Object.fromEntries(
        Object.entries(spec.responses).map(([status, description]) => [
          status,
          {
            description,
            ...(spec.stream && status.startsWith('2')
              ? { content: { 'text/event-stream': { schema: { type: 'string' } } } }
              : Number(status) >= 400
                ? { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }
                : {}),
          },
        ]),
      ),
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
        'Flows, runs, record history, schedules, webhooks and connections. Every route under /api except /api/health needs `Authorization: Bearer <token>`.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string' },
                message: { type: 'string', description: 'What is wrong, naming the field at fault.' },
                path: { type: 'string', description: 'The field at fault.' },
                problems: { type: 'array', items: { type: 'object' } },
              },
            },
          },
        },
      },
    },
    paths,
  };
}

function toJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}
