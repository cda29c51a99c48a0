import { RECORD_STATUSES, RUN_STATUSES, TRIGGER_KINDS } from '@sluice/shared';
import { z } from 'zod';
import type { AppDeps } from './app.js';
import { ApiError } from './errors.js';
import { type ApiRouter, p } from './spec.js';

const time = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date-time, e.g. 2026-11-28T00:00:00Z')
  .transform((s) => Date.parse(s))
  .optional();

/** Runs: list, detail, control, records, grouped errors, collected records. */
export function registerRunRoutes(api: ApiRouter, deps: AppDeps): void {
  api.add(
    'get',
    '/api/runs',
    {
      tag: 'runs',
      summary: 'List runs, newest first, filtered and cursor-paged',
      query: z.object({
        flowId: z.string().min(1).max(100).optional(),
        status: z.enum(RUN_STATUSES).optional(),
        trigger: z.enum(TRIGGER_KINDS).optional(),
        from: time.describe('Created at or after (ISO 8601).'),
        to: time.describe('Created before (ISO 8601).'),
        limit: p.limit(50, 500),
        cursor: p.cursor,
      }),
      responses: { 200: '{ items, nextCursor }', 400: 'A bad filter, named' },
    },
    (c, { query }) => {
      const { flowId, status, trigger, from, to, limit, cursor } = query;
      return c.json(
        deps.runs.list({
          limit,
          ...(flowId ? { flowId } : {}),
          ...(status ? { status } : {}),
          ...(trigger ? { trigger } : {}),
          ...(from !== undefined ? { from } : {}),
          ...(to !== undefined ? { to } : {}),
          ...(cursor !== undefined ? { cursor } : {}),
        }),
      );
    },
  );
  api.add(
    'get',
    '/api/runs/{id}',
    {
      tag: 'runs',
      summary: 'A run: status, counts per node, batches with timings',
      params: p.runId,
      responses: { 200: 'The run', 404: 'No such run' },
    },
    (c, { params }) => c.json(deps.runs.get(params.id)),
  );
  const control = (verb: 'pause' | 'resume' | 'cancel', summary: string) =>
    api.add(
      'post',
      `/api/runs/{id}/${verb}`,
      {
        tag: 'runs',
        summary,
        params: p.runId,
        responses: { 202: 'Accepted', 404: 'No such run', 409: 'Not possible in the run’s state' },
      },
      (c, { params }) => {
        const run = deps.runs.get(params.id);
        if (verb === 'cancel') {
          if (['succeeded', 'failed', 'cancelled'].includes(run.status))
            throw new ApiError(409, 'run_finished', `run ${params.id} has already finished (${run.status})`);
          deps.runner.cancel(params.id);
          return c.json({ runId: params.id, status: 'cancelling' }, 202);
        }
        deps.runner[verb](params.id);
        return c.json({ runId: params.id, status: verb === 'pause' ? 'paused' : 'running' }, 202);
      },
    );
  control('pause', 'Pause a running run (requests in flight finish)');
  control('resume', 'Resume a paused run');
  control('cancel', 'Cancel a queued, running or paused run');
  api.add(
    'post',
    '/api/runs/{id}/retry',
    {
      tag: 'runs',
      summary: 'Start a run that retries the failed records of a finished run',
      params: p.runId,
      body: z.strictObject({ version: z.enum(['original', 'current']).default('original') }).optional(),
      responses: {
        202: '{ runId, retryOf, version }',
        404: 'No such run',
        409: 'Not finished, or nothing failed',
        422: 'That version has errors',
      },
    },
    (c, { params, body }) => {
      const version = body?.version ?? 'original';
      const runId = deps.runner.retryFailed(params.id, version);
      return c.json({ runId, retryOf: params.id, version, status: 'queued' }, 202);
    },
  );
  api.add(
    'get',
    '/api/runs/{id}/records',
    {
      tag: 'history',
      summary: 'A run’s record outcomes in read order, filtered by status and node, searchable by key',
      params: p.runId,
      query: z.object({
        status: z.enum(RECORD_STATUSES).optional(),
        node: z.string().min(1).max(100).optional(),
        key: z.string().min(1).max(1000).optional().describe('Exact record key.'),
        limit: p.limit(50, 1000),
        cursor: p.cursor,
      }),
      responses: { 200: '{ items, nextCursor }', 404: 'No such run' },
    },
    (c, { params, query }) =>
      c.json(
        deps.runs.records(params.id, {
          limit: query.limit,
          ...(query.status ? { status: query.status } : {}),
          ...(query.node ? { nodeId: query.node } : {}),
          ...(query.key ? { key: query.key } : {}),
          ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
        }),
      ),
  );
  api.add(
    'get',
    '/api/runs/{id}/errors',
    {
      tag: 'history',
      summary: 'A run’s failed records grouped by error message and node, with counts and sample keys',
      params: p.runId,
      query: z.object({ limit: p.limit(50, 500) }),
      responses: { 200: '{ items }', 404: 'No such run' },
    },
    (c, { params, query }) => c.json({ items: deps.runs.errorGroups(params.id, query.limit) }),
  );
  api.add(
    'get',
    '/api/runs/{id}/collected',
    {
      tag: 'history',
      summary: 'Records kept by the run’s collect nodes',
      params: p.runId,
      query: z.object({ node: z.string().min(1).max(100).optional(), limit: p.limit(50, 1000), cursor: p.cursor }),
      responses: { 200: '{ items, nextCursor }', 404: 'No such run' },
    },
    (c, { params, query }) =>
      c.json(
        deps.runs.collected(params.id, {
          limit: query.limit,
          ...(query.node ? { nodeId: query.node } : {}),
          ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
        }),
      ),
  );
}
