import { z } from 'zod';
import { parseFlowDocument } from '../flows/repository.js';
import { preview } from '../schedules/scheduler.js';
import type { AppDeps } from './app.js';
import { type ApiRouter, p, readJsonBody } from './spec.js';

const flowDocument = {
  contentType: 'application/json',
  schema: { $ref: '/api/flow.schema.json' },
  description: 'A flow document (format 1). A document with problems is saved as a draft and its problems returned.',
};

const runBody = z
  .strictObject({
    version: z
      .union([z.enum(['latest', 'published']), z.number().int().min(1)])
      .optional()
      .describe('Which version to run: latest (default), published, or a version number.'),
    records: z
      .array(z.record(z.string(), z.unknown()))
      .max(100_000)
      .optional()
      .describe('Records to start the run with, for flows whose trigger is a webhook.'),
  })
  .optional();

/** Where a schedule preview starts (an instant; now by default), e.g. to check a future DST night. */
const previewFrom = z
  .string()
  .max(40)
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date-time, e.g. 2027-03-27T00:00:00Z')
  .transform((s) => Date.parse(s))
  .optional()
  .describe('List the fire times after this instant (ISO 8601) instead of after now.');

/** Flows: create, list, versions, publish, enable, validate, start a run, schedules, hooks, record history. */
export function registerFlowRoutes(api: ApiRouter, deps: AppDeps): void {
  api.add(
    'get',
    '/api/flows',
    { tag: 'flows', summary: 'List flows', responses: { 200: 'Flows, most recently changed first' } },
    (c) => c.json({ items: deps.flows.list() }),
  );
  api.add(
    'post',
    '/api/flows',
    {
      tag: 'flows',
      summary: 'Create a flow (version 1)',
      rawBody: flowDocument,
      responses: { 201: 'The flow', 400: 'Not JSON', 422: 'Not a flow document' },
    },
    async (c) => c.json(deps.flows.create(await readJsonBody(c)), 201),
  );
  api.add(
    'post',
    '/api/flows/validate',
    {
      tag: 'flows',
      summary: 'Check a flow document without saving it',
      rawBody: flowDocument,
      responses: { 200: '{ ok, problems }', 422: 'Not a flow document' },
    },
    async (c) => {
      const { ok, problems } = parseFlowDocument(await readJsonBody(c));
      return c.json({ ok, problems });
    },
  );
  api.add(
    'get',
    '/api/flows/{id}',
    {
      tag: 'flows',
      summary: 'A flow with the document of its latest version (or of ?version=)',
      params: p.flowId,
      query: z.object({ version: z.coerce.number().int().min(1).optional() }),
      responses: { 200: 'The flow', 404: 'No such flow or version' },
    },
    (c, { params, query }) => c.json(deps.flows.get(params.id, query.version)),
  );
  api.add(
    'put',
    '/api/flows/{id}',
    {
      tag: 'flows',
      summary: 'Save a new version',
      params: p.flowId,
      rawBody: flowDocument,
      responses: { 200: 'The flow at its new version', 404: 'No such flow', 422: 'Not a flow document' },
    },
    async (c, { params }) => c.json(deps.flows.update(params.id, await readJsonBody(c))),
  );
  api.add(
    'get',
    '/api/flows/{id}/versions',
    {
      tag: 'flows',
      summary: 'The versions of a flow, newest first',
      params: p.flowId,
      responses: { 200: 'Versions', 404: 'No such flow' },
    },
    (c, { params }) => c.json({ items: deps.flows.versions(params.id) }),
  );
  api.add(
    'post',
    '/api/flows/{id}/publish',
    {
      tag: 'flows',
      summary: 'Publish a version: the one schedules and webhooks run',
      params: p.flowId,
      body: z.strictObject({ version: z.number().int().min(1).optional() }).optional(),
      responses: {
        200: 'The flow at the published version',
        404: 'No such flow or version',
        422: 'The version has errors',
      },
    },
    (c, { params, body }) => {
      const flow = deps.flows.publish(params.id, body?.version);
      deps.webhooks.list(params.id);
      return c.json(flow);
    },
  );
  api.add(
    'put',
    '/api/flows/{id}/enabled',
    {
      tag: 'flows',
      summary: 'Turn the flow’s schedules and webhooks on or off',
      params: p.flowId,
      body: z.strictObject({ enabled: z.boolean() }),
      responses: { 200: 'The flow', 404: 'No such flow' },
    },
    (c, { params, body }) => {
      return c.json(deps.flows.setEnabled(params.id, body.enabled));
    },
  );
  api.add(
    'post',
    '/api/flows/{id}/runs',
    {
      tag: 'runs',
      summary: 'Start a run; answers at once with its id (it waits queued for a free slot)',
      params: p.flowId,
      body: runBody,
      responses: {
        202: '{ runId, status: "queued" }',
        404: 'No such flow',
        409: 'No published version',
        422: 'The version has errors',
      },
    },
    (c, { params, body }) => {
      const runId = deps.runner.enqueue(params.id, 'api', {
        version: body?.version ?? 'latest',
        ...(body?.records ? { inputs: body.records } : {}),
      });
      return c.json({ runId, status: 'queued' }, 202);
    },
  );
  api.add(
    'get',
    '/api/flows/{id}/schedule',
    {
      tag: 'schedules',
      summary: 'The flow’s schedules: meaning, next five fire times, policies, last fire',
      params: p.flowId,
      query: z.object({ from: previewFrom }),
      responses: { 200: 'Schedules', 404: 'No such flow' },
    },
    (c, { params, query }) => c.json(deps.scheduler.describe(params.id, query.from)),
  );
  api.add(
    'get',
    '/api/schedules/preview',
    {
      tag: 'schedules',
      summary: 'What a cron expression means and when it fires next',
      query: z.object({
        cron: z.string().min(1).max(200),
        timezone: z.string().min(1).max(100).default('UTC'),
        from: previewFrom,
      }),
      responses: { 200: '{ description, next }', 400: 'Not a valid cron or time zone' },
    },
    (c, { query }) => c.json(preview(query, query.from ?? Date.now())),
  );
  api.add(
    'get',
    '/api/flows/{id}/hooks',
    {
      tag: 'webhooks',
      summary: 'The hook address and secret of each webhook trigger',
      params: p.flowId,
      responses: { 200: 'Hooks', 404: 'No such flow' },
    },
    (c, { params }) => c.json({ items: deps.webhooks.list(params.id) }),
  );
  api.add(
    'post',
    '/api/flows/{id}/hooks/{nodeId}/rotate',
    {
      tag: 'webhooks',
      summary: 'Replace a hook’s secret',
      params: z.object({ id: z.string().min(1).max(100), nodeId: z.string().min(1).max(100) }),
      responses: { 200: 'The hook with its new secret', 404: 'No such flow or webhook node' },
    },
    (c, { params }) => c.json(deps.webhooks.rotate(params.id, params.nodeId)),
  );
  api.add(
    'get',
    '/api/flows/{id}/watermarks',
    {
      tag: 'flows',
      summary: 'Incremental sync: the watermark of each incremental source, as its last successful run left it',
      params: p.flowId,
      responses: { 200: '{ items: [{ nodeId, value, runId, updatedAt }] }', 404: 'No such flow' },
    },
    (c, { params }) => {
      deps.flows.assertExists(params.id);
      return c.json({ items: deps.runs.listWatermarks(params.id) });
    },
  );
  api.add(
    'get',
    '/api/flows/{id}/records/{key}',
    {
      tag: 'history',
      summary: 'One record key’s history across the flow’s runs, newest run first',
      params: z.object({ id: z.string().min(1).max(100), key: z.string().min(1).max(1000) }),
      query: z.object({ limit: p.limit(100, 1000) }),
      responses: { 200: 'Outcomes: status, node, attempts, error, payload, time', 404: 'No such flow' },
    },
    (c, { params, query }) => {
      deps.flows.assertExists(params.id);
      return c.json({ items: deps.runs.history(params.id, params.key, query.limit) });
    },
  );
}
