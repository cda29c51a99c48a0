import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import type { ResolvedConnection } from '@sluice/engine';
import { Hono } from 'hono';
import type { FlowRepository } from '../flows/repository.js';
import type { RunRepository } from '../runs/repository.js';
import type { Runner } from '../runs/runner.js';
import { catalogueRoutes } from './catalogue-routes.js';
import { ApiError, errorResponse } from './errors.js';
import { flowRoutes } from './flow-routes.js';
import { runRoutes } from './run-routes.js';

export interface AppDeps {
  flows: FlowRepository;
  runs: RunRepository;
  runner: Runner;
  connections: readonly ResolvedConnection[];
  /** Folder of the built editor, served at `/`. */
  editorDir?: string;
}

/** Builds the HTTP app: the JSON API under /api and the editor at /. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.onError(errorResponse);
  app.get('/api/health', (c) => c.json({ status: 'ok', activeRuns: deps.runner.activeCount }));
  app.route('/api', catalogueRoutes(deps));
  app.route('/api/flows', flowRoutes(deps));
  app.route('/api/runs', runRoutes(deps));
  app.all('/api/*', () => {
    throw new ApiError(404, 'not_found', 'no such API route');
  });
  if (deps.editorDir) mountEditor(app, deps.editorDir);
  return app;
}

function mountEditor(app: Hono, dir: string): void {
  const index = path.join(dir, 'index.html');
  const root = path.relative(process.cwd(), dir) || '.';
  app.use('/*', serveStatic({ root }));
  app.get('*', (c) => {
    if (!existsSync(index)) {
      return c.html('<h1>Sluice</h1><p>The editor is not built yet: run <code>npm start</code>.</p>', 503);
    }
    return c.html(readFileSync(index, 'utf8'));
  });
}
