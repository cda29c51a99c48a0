import { parseFlowDocument } from '../flows/repository.js';
import { preview } from '../schedules/scheduler.js';
import type { AppDeps } from './deps.js';
import type { ApiRouter } from './spec.js';

/** Flows: create, list, versions, publish, enable, validate, start a run, schedules, hooks, record history. */
export function registerFlowRoutes(api: ApiRouter, deps: AppDeps): void {
  // every flow fits one page today; the answer is a page so clients read it as they read runs
  api.add('listFlows', async (_c, { query }) => ({ items: await deps.flows.list(query.archived), nextCursor: null }));
  api.add('deleteFlow', (_c, { params }) => deps.flows.delete(params.id));
  api.add('restoreFlow', (_c, { params }) => deps.flows.restore(params.id));
  api.add('duplicateFlow', (_c, { params }) => deps.flows.duplicate(params.id));
  api.add('createFlow', (_c, { body }) => deps.flows.create(body));
  api.add('validateFlow', (_c, { body }) => {
    const { ok, problems } = parseFlowDocument(body);
    return { ok, problems };
  });
  api.add('getFlow', (_c, { params, query }) => deps.flows.get(params.id, query.version));
  api.add('saveFlow', (_c, { params, body }) => deps.flows.update(params.id, body));
  api.add('listVersions', async (_c, { params }) => ({ items: await deps.flows.versions(params.id) }));
  api.add('publishFlow', async (_c, { params, body }) => {
    const flow = await deps.flows.publish(params.id, body?.version);
    // makes the hooks of the published version's webhook nodes, so they accept records at once
    await deps.webhooks.list(params.id);
    return flow;
  });
  api.add('setFlowEnabled', (_c, { params, body }) => deps.flows.setEnabled(params.id, body.enabled));
  api.add('startRun', async (_c, { params, body }) => {
    const runId = await deps.runner.enqueue(params.id, body?.trigger ?? 'api', {
      version: body?.version ?? 'latest',
      ...(body?.records ? { inputs: body.records } : {}),
    });
    return { runId, status: 'queued' as const };
  });
  api.add('flowEstimate', async (_c, { params, query }) => {
    const flow = await deps.flows.get(params.id, query.version);
    return deps.estimates.forFlow(flow.id, flow.version, flow.document, query.records);
  });
  api.add('testFlow', async (_c, { params, body }) => {
    const document = body.document ?? (await deps.flows.get(params.id)).document;
    await deps.flows.assertExists(params.id);
    const runId = await deps.runner.test({
      flowId: params.id,
      document,
      limit: body.limit,
      sendWrites: body.sendWrites,
      ...(body.until ? { until: body.until } : {}),
    });
    return { runId, status: 'running' as const };
  });
  api.add('testDraft', async (_c, { body }) => {
    const runId = await deps.runner.test({
      flowId: null,
      document: body.document,
      limit: body.limit,
      sendWrites: body.sendWrites,
      ...(body.until ? { until: body.until } : {}),
    });
    return { runId, status: 'running' as const };
  });
  api.add('flowSchedules', (_c, { params, query }) => deps.scheduler.describe(params.id, query.from));
  api.add('previewSchedule', (_c, { query }) => preview(query, query.from ?? Date.now()));
  api.add('listHooks', async (_c, { params }) => ({ items: await deps.webhooks.list(params.id) }));
  api.add('rotateHook', (_c, { params }) => deps.webhooks.rotate(params.id, params.nodeId));
  api.add('listWatermarks', async (_c, { params }) => {
    await deps.flows.assertExists(params.id);
    return { items: await deps.runs.listWatermarks(params.id) };
  });
  api.add('recordHistory', async (_c, { params, query }) => {
    // one round trip when there is history: a flow with runs cannot be removed, so a history found is
    // a flow that exists; only an empty answer asks whether the flow does (404 when it does not)
    const items = await deps.runs.history(params.id, params.key, query.limit);
    if (items.length === 0) await deps.flows.assertExists(params.id);
    return { items };
  });
}
