import { HTTP_STATUS, isFinalRunStatus } from '@sluice/shared';
import type { AppDeps } from './deps.js';
import { ApiError } from './errors.js';
import type { ApiRouter } from './spec.js';

/** Runs: list, detail, control, records, grouped errors, collected records. */
export function registerRunRoutes(api: ApiRouter, deps: AppDeps): void {
  api.add('listRuns', (_c, { query }) => {
    const { flowId, status, trigger, from, to, limit, cursor } = query;
    return deps.runs.list({
      limit,
      ...(flowId ? { flowId } : {}),
      ...(status ? { status } : {}),
      ...(trigger ? { trigger } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
    });
  });
  api.add('getRun', async (_c, { params }) => {
    const run = await deps.runs.get(params.id);
    if (run.status !== 'running') return run;
    return { ...run, eta: await deps.estimates.eta(run, (await deps.runs.versionOf(params.id)).document) };
  });
  api.add('testData', (_c, { params, query }) => deps.runner.testDataOf(params.id, query.waitMs));
  api.add('pauseRun', async (_c, { params }) => {
    await deps.runner.pause(params.id);
    return { runId: params.id, status: 'paused' as const };
  });
  api.add('resumeRun', async (_c, { params }) => {
    await deps.runner.resume(params.id);
    return { runId: params.id, status: 'running' as const };
  });
  api.add('cancelRun', async (_c, { params }) => {
    const run = await deps.runs.get(params.id);
    if (isFinalRunStatus(run.status))
      throw new ApiError(HTTP_STATUS.CONFLICT, 'run_finished', `run ${params.id} has already finished (${run.status})`);
    await deps.runner.cancel(params.id);
    return { runId: params.id, status: 'cancelling' as const };
  });
  api.add('retryRun', async (_c, { params, body }) => {
    const version = body?.version ?? 'original';
    const runId = await deps.runner.retryFailed(params.id, version, body?.records);
    return { runId, retryOf: params.id, version, status: 'queued' as const };
  });
  api.add('listRecords', (_c, { params, query }) =>
    deps.runs.records(params.id, {
      limit: query.limit,
      ...(query.status ? { status: query.status } : {}),
      ...(query.node ? { nodeId: query.node } : {}),
      ...(query.key ? { key: query.key } : {}),
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    }),
  );
  api.add('errorGroups', async (_c, { params, query }) => ({
    items: await deps.runs.errorGroups(params.id, query.limit),
  }));
  api.add('listCollected', (_c, { params, query }) =>
    deps.runs.collected(params.id, {
      limit: query.limit,
      ...(query.node ? { nodeId: query.node } : {}),
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    }),
  );
}
