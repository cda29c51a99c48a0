import { parseFlowDocument } from '../flows/repository.js';
import { preview } from '../schedules/scheduler.js';
import type { AppDeps } from './deps.js';
import type { ApiRouter } from './spec.js';

/** Flows: create, list, versions, publish, enable, validate, start a run, schedules, hooks, record history. */
export function registerFlowRoutes(api: ApiRouter, deps: AppDeps): void {
  // every flow fits one page today; the answer is a page so clients read it as they read runs
  api.add('listFlows', (_c, { query }) => ({ items: deps.flows.list(query.archived), nextCursor: null }));
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
  api.add('listVersions', (_c, { params }) => ({ items: deps.flows.versions(params.id) }));
  api.add('publishFlow', (_c, { params, body }) => {
    const flow = deps.flows.publish(params.id, body?.version);
    // makes the hooks of the published version's webhook nodes, so they accept records at once
    deps.webhooks.list(params.id);
    return flow;
  });
  api.add('setFlowEnabled', (_c, { params, body }) => deps.flows.setEnabled(params.id, body.enabled));
  api.add('startRun', (_c, { params, body }) => {
    const runId = deps.runner.enqueue(params.id, body?.trigger ?? 'api', {
      version: body?.version ?? 'latest',
      ...(body?.records ? { inputs: body.records } : {}),
    });
    return { runId, status: 'queued' as const };
  });
  api.add('flowEstimate', (_c, { params, query }) => {
    const flow = deps.flows.get(params.id, query.version);
    return deps.estimates.forFlow(flow.id, flow.version, flow.document, query.records);
  });
  api.add('testFlow', (_c, { params, body }) => {
    const document = body.document ?? deps.flows.get(params.id).document;
    deps.flows.assertExists(params.id);
    const runId = deps.runner.test({
      flowId: params.id,
      document,
      limit: body.limit,
      sendWrites: body.sendWrites,
      ...(body.until ? { until: body.until } : {}),
    });
    return { runId, status: 'running' as const };
  });
  api.add('testDraft', (_c, { body }) => {
    const runId = deps.runner.test({
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
  api.add('listHooks', (_c, { params }) => ({ items: deps.webhooks.list(params.id) }));
  api.add('rotateHook', (_c, { params }) => deps.webhooks.rotate(params.id, params.nodeId));
  api.add('listWatermarks', (_c, { params }) => {
    deps.flows.assertExists(params.id);
    return { items: deps.runs.listWatermarks(params.id) };
  });
  api.add('recordHistory', (_c, { params, query }) => {
    deps.flows.assertExists(params.id);
    return { items: deps.runs.history(params.id, params.key, query.limit) };
  });
}
