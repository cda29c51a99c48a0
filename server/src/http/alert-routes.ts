import type { AppDeps } from './deps.js';
import type { ApiRouter } from './spec.js';

/** Alerts: a flow's rules (list, add, replace, remove, test) and the recent deliveries of every flow or one. */
export function registerAlertRoutes(api: ApiRouter, deps: AppDeps): void {
  api.add('listAlertRules', async (_c, { params }) => ({ items: await deps.alerts.list(params.id) }));
  api.add('createAlertRule', (_c, { params, body }) => deps.alerts.create(params.id, body));
  api.add('updateAlertRule', (_c, { params, body }) => deps.alerts.update(params.id, params.ruleId, body));
  api.add('deleteAlertRule', async (_c, { params }) => {
    await deps.alerts.remove(params.id, params.ruleId);
    return undefined;
  });
  api.add('testAlertRule', (_c, { params }) => deps.alerts.test(params.id, params.ruleId));
  api.add('listAlertDeliveries', async (_c, { query }) => ({
    items: await deps.alerts.deliveries({ limit: query.limit, ...(query.flowId ? { flowId: query.flowId } : {}) }),
  }));
}
