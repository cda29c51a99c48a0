import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestSluice, type TestSluice } from './test-support.js';

let t: TestSluice;

beforeAll(async () => {
  t = await openTestSluice({ start: false });
});
afterAll(() => t.close());

interface Doc {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        summary: string;
        parameters: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
        requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
        responses: Record<
          string,
          { description: string; content?: Record<string, { schema: Record<string, unknown> }> }
        >;
        security?: unknown[];
      }
    >
  >;
}

describe('the OpenAPI document', () => {
  it('lists every declared route with its parameters and bodies, made from the schemas that validate them', async () => {
    const res = await t.app.request('/api/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Doc;
    expect(doc.openapi).toBe('3.1.0');
    const listed = Object.entries(doc.paths).flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m} ${p}`));
    expect(listed.sort()).toEqual(t.raw.routes.map((r) => `${r.method} ${r.path}`).sort());
    expect(listed.length).toBeGreaterThanOrEqual(35);

    const runs = doc.paths['/api/runs']?.get;
    expect(runs?.parameters.map((p) => p.name)).toEqual([
      'flowId',
      'status',
      'trigger',
      'from',
      'to',
      'limit',
      'cursor',
    ]);
    expect(runs?.parameters.find((p) => p.name === 'status')?.schema.enum).toContain('succeeded');
    expect(runs?.parameters.find((p) => p.name === 'limit')?.schema).toMatchObject({ maximum: 500, default: 50 });
    const conn = doc.paths['/api/connections']?.post?.requestBody?.content['application/json']?.schema as {
      properties: Record<string, unknown>;
      required: string[];
    };
    expect(Object.keys(conn.properties)).toEqual(expect.arrayContaining(['name', 'baseUrl', 'auth', 'secret']));
    expect(conn.required).toEqual(['name', 'baseUrl']);
    // a connection's limits: bounded as the server checks them, and always in the answer
    expect(conn.properties.limits).toMatchObject({
      properties: {
        maxConcurrent: { type: 'integer', minimum: 1, maximum: 1000 },
        maxPerSecond: { type: 'number', exclusiveMinimum: 0, maximum: 10_000 },
      },
      additionalProperties: false,
    });
    const view = doc.paths['/api/connections/{name}']?.get?.responses['200']?.content?.['application/json']?.schema as {
      required: string[];
    };
    expect(view.required).toContain('limits');
    expect(doc.paths['/api/health']?.get?.security).toEqual([]);
    expect(doc.paths['/api/runs/{id}']?.get?.parameters[0]).toMatchObject({ name: 'id', in: 'path', required: true });

    // what the document says is what the route enforces
    const bad = await t.app.request('/api/runs?status=sleeping');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { path: string } }).error.path).toBe('status');
  });

  it('describes every answer: a schema for each JSON success, the error body for each error', async () => {
    const doc = (await (await t.app.request('/api/openapi.json')).json()) as Doc & {
      components: { schemas: { Error: { properties: Record<string, unknown> } } };
    };
    let described = 0;
    for (const [p, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const statuses = Object.keys(op.responses);
        const success = statuses.filter((s) => s.startsWith('2'));
        expect(success, `${method} ${p}`).toHaveLength(1);
        for (const status of statuses) {
          const { content } = op.responses[status] ?? {};
          if (status === '204' || content?.['text/event-stream']) continue;
          const schema = content?.['application/json']?.schema;
          expect(schema, `${method} ${p} ${status}`).toBeDefined();
          if (status.startsWith('4')) expect(schema).toEqual({ $ref: '#/components/schemas/Error' });
          else described++;
        }
      }
    }
    expect(described).toBeGreaterThanOrEqual(35);
    expect(Object.keys(doc.components.schemas.Error.properties)).toEqual(['error']);

    // the list of flows is a page, like the list of runs
    const flows = doc.paths['/api/flows']?.get?.responses['200']?.content?.['application/json']?.schema as {
      properties: Record<string, unknown>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(flows.required).toEqual(['items', 'nextCursor']);
    expect(flows.additionalProperties).toBe(false);
    const run = doc.paths['/api/runs/{id}']?.get?.responses['200']?.content?.['application/json']?.schema as {
      properties: Record<string, unknown>;
    };
    expect(Object.keys(run.properties)).toEqual(expect.arrayContaining(['status', 'counts', 'nodeCounts', 'batches']));
  });

  it('serves a readable reference page without a token', async () => {
    const res = await t.raw.request('/reference');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<title>Sluice API reference</title>');
    for (const route of t.raw.routes) expect(html).toContain(`<code>${route.path}</code>`);
    expect(html).toContain('Start a run');
    // each answer's schema is on the page too
    expect(html).toContain('&quot;nextCursor&quot;');
  });
});
