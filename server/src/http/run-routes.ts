import { RECORD_STATUSES, type RecordStatus, RUN_STATUSES, type RunStatus } from '@sluice/shared';
import { Hono } from 'hono';
import type { AppDeps } from './app.js';
import { ApiError, intParam } from './errors.js';

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], name: string): T | undefined {
  if (value === undefined || value === '') return undefined;
  if (!allowed.includes(value as T)) {
    throw new ApiError(400, 'bad_query', `${name}: must be one of ${allowed.join(', ')} (got "${value}")`, name);
  }
  return value as T;
}

function cursorParam(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < -1)
    throw new ApiError(400, 'bad_query', 'cursor: not a cursor this API returned', 'cursor');
  return n;
}

/** Runs: list, detail with counts and batches, cancel, record outcomes, collected records. */
export function runRoutes(deps: AppDeps): Hono {
  const app = new Hono();

  app.get('/', (c) => {
    const q = c.req.query();
    return c.json(
      deps.runs.list({
        ...(q.flowId ? { flowId: q.flowId } : {}),
        ...(q.status ? { status: oneOf<RunStatus>(q.status, RUN_STATUSES, 'status') } : {}),
        limit: intParam(q.limit, 'limit', 50, 1, 500),
        ...(q.cursor ? { cursor: cursorParam(q.cursor) } : {}),
      }),
    );
  });
  app.get('/:id', (c) => c.json(deps.runs.get(c.req.param('id'))));
  app.post('/:id/cancel', (c) => {
    const id = c.req.param('id');
    const run = deps.runs.get(id);
    if (['succeeded', 'failed', 'cancelled'].includes(run.status)) {
      throw new ApiError(409, 'run_finished', `run ${id} has already finished (${run.status})`);
    }
    deps.runner.cancel(id);
    return c.json({ runId: id, status: 'cancelling' }, 202);
  });
  app.post('/:id/pause', (c) => {
    const id = c.req.param('id');
    deps.runner.pause(id);
    return c.json({ runId: id, status: 'paused' }, 202);
  });
  app.post('/:id/resume', (c) => {
    const id = c.req.param('id');
    deps.runner.resume(id);
    return c.json({ runId: id, status: 'running' }, 202);
  });
  app.post('/:id/retry', async (c) => {
    const text = await c.req.text();
    let version: 'original' | 'current' = 'original';
    if (text.trim()) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new ApiError(400, 'bad_json', 'request body: not valid JSON');
      }
      const v = (body as { version?: unknown } | null)?.version;
      if (v !== undefined && v !== 'original' && v !== 'current') {
        throw new ApiError(400, 'bad_request', 'version: must be "original" or "current"', 'version');
      }
      if (v) version = v;
    }
    const runId = deps.runner.retryFailed(c.req.param('id'), version);
    return c.json({ runId, retryOf: c.req.param('id'), version, status: 'queued' }, 202);
  });
  app.get('/:id/records', (c) => {
    const q = c.req.query();
    const status = oneOf<RecordStatus>(q.status, RECORD_STATUSES, 'status');
    const cursor = cursorParam(q.cursor);
    return c.json(
      deps.runs.records(c.req.param('id'), {
        limit: intParam(q.limit, 'limit', 50, 1, 1000),
        ...(status ? { status } : {}),
        ...(q.node ? { nodeId: q.node } : {}),
        ...(q.key ? { key: q.key } : {}),
        ...(cursor !== undefined ? { cursor } : {}),
      }),
    );
  });
  app.get('/:id/collected', (c) => {
    const q = c.req.query();
    const cursor = cursorParam(q.cursor);
    return c.json(
      deps.runs.collected(c.req.param('id'), {
        limit: intParam(q.limit, 'limit', 50, 1, 1000),
        ...(q.node ? { nodeId: q.node } : {}),
        ...(cursor !== undefined ? { cursor } : {}),
      }),
    );
  });
  return app;
}
