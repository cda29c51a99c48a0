import { Hono } from 'hono';
import { parseFlowDocument } from '../flows/repository.js';
import type { AppDeps } from './app.js';
import { intParam, readJson } from './errors.js';

/** Flows: create, list, get, update (a new version each time), validate, start a run, record history. */
export function flowRoutes(deps: AppDeps): Hono {
  const app = new Hono();

  app.get('/', (c) => c.json({ items: deps.flows.list() }));
  app.post('/', async (c) => c.json(deps.flows.create(await readJson(c)), 201));
  app.post('/validate', async (c) => {
    const { ok, problems } = parseFlowDocument(await readJson(c));
    return c.json({ ok, problems });
  });
  app.get('/:id', (c) => {
    const version = c.req.query('version');
    return c.json(deps.flows.get(c.req.param('id'), version ? intParam(version, 'version', 1, 1, 1e9) : undefined));
  });
  app.put('/:id', async (c) => c.json(deps.flows.update(c.req.param('id'), await readJson(c))));
  app.post('/:id/runs', (c) => {
    const runId = deps.runner.enqueue(c.req.param('id'), 'manual');
    return c.json({ runId, status: 'queued' }, 202);
  });
  app.get('/:id/records/:key', (c) => {
    const flowId = c.req.param('id');
    deps.flows.assertExists(flowId);
    const limit = intParam(c.req.query('limit'), 'limit', 100, 1, 1000);
    return c.json({ items: deps.runs.history(flowId, c.req.param('key'), limit) });
  });
  return app;
}
