import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { apiContract, flowJsonSchema, HTTP_STATUS } from '@sluice/shared';
import { Hono } from 'hono';
import { createLogger } from '../logger.js';
import { METRICS_TOKEN_MESSAGE } from '../metrics/metrics.js';
import { firstNotReady, notReadyMessage, readiness } from '../metrics/readiness.js';
import { registerAlertRoutes } from './alert-routes.js';
import { auditRecorder, registerAuditRoutes } from './audit.js';
import { registerAuthRoutes } from './auth-routes.js';
import { authenticate, authorize, bearerOf } from './authentication.js';
import { registerCatalogueRoutes } from './catalogue-routes.js';
import type { AppDeps } from './deps.js';
import { ApiError, errorResponse } from './errors.js';
import { registerEventRoutes } from './event-routes.js';
import { registerFlowRoutes } from './flow-routes.js';
import { registerOperationRoutes } from './operation-routes.js';
import { referencePage } from './reference.js';
import { registerRunRoutes } from './run-routes.js';
import { apiCors, securityHeaders } from './security.js';
import { ApiRouter, openApiDocument, type RegisteredRoute } from './spec.js';

/** The server's limits and retention, as `GET /api/settings` answers them. */
export type { Settings } from '@sluice/shared';
export type { AppDeps } from './deps.js';

const VERSION = '0.1.0';

/** The API routes that need no credential (`auth: false` in the contract): liveness, readiness, signing in. */
const OPEN_PATHS = new Set<string>(
  Object.values(apiContract)
    .filter((r) => 'auth' in r && r.auth === false)
    .map((r) => r.path),
);

/** Builds the HTTP app: the JSON API under /api (bearer tokens or a session cookie), webhooks under /hooks, the editor at /. */
export function createApp(
  deps: AppDeps,
  options: {
    editorDir?: string;
    /** Parse every answer with its declared schema before sending it (tests): drift answers 500. */
    checkAnswers?: boolean;
    /** Origins whose pages may call the API (SLUICE_CORS_ORIGINS); none: CORS closed. */
    corsOrigins?: readonly string[];
  } = {},
): Hono & { routes: RegisteredRoute[] } {
  const app = new Hono();
  const logger = deps.logger ?? createLogger();
  app.onError((err, c) => errorResponse(err, c, logger));
  app.use('*', securityHeaders());
  // ahead of authentication: a preflight carries no token
  const cors = apiCors(options.corsOrigins ?? []);
  if (cors) app.use('/api/*', cors);
  app.use('/api/*', async (c, next) => {
    if (OPEN_PATHS.has(c.req.path)) return next();
    // a bearer token, or a session cookie (then with a CSRF token on state-changing requests)
    return (await authenticate(c, deps)) ?? next();
  });
  // each route's permission (shared/src/api/permissions.ts) is checked before its input; every call
  // to a route that changes something is recorded in the audit log
  const api = new ApiRouter(app, {
    checkAnswers: options.checkAnswers ?? false,
    authorize,
    onDone: auditRecorder(deps.audit, logger, deps.trustedProxies),
  });
  api.add('health', () => ({ status: 'ok' as const, activeRuns: deps.runner.activeCount }));
  api.add('ready', async () => {
    const r = await readiness({ storage: deps.storage, scheduler: deps.scheduler });
    if (!r.ready) {
      throw new ApiError(HTTP_STATUS.SERVICE_UNAVAILABLE, 'not_ready', notReadyMessage(r), firstNotReady(r));
    }
    return { status: 'ready' as const, checks: r.checks };
  });
  // Prometheus scrapes this process's metrics here, with an API token unless SLUICE_METRICS_PUBLIC=1
  app.get('/metrics', async (c) => {
    if (!deps.metrics) throw new ApiError(HTTP_STATUS.NOT_FOUND, 'not_found', 'this server keeps no metrics');
    const token = bearerOf(c);
    if (!deps.metricsPublic && !(token && (await deps.tokens.verify(token)))) {
      c.header('WWW-Authenticate', 'Bearer realm="sluice"');
      return c.json(
        { error: { code: 'unauthorized', message: METRICS_TOKEN_MESSAGE, path: 'Authorization' } },
        HTTP_STATUS.UNAUTHORIZED,
      );
    }
    const { contentType, body } = await deps.metrics.render();
    return c.body(body, HTTP_STATUS.OK, { 'content-type': contentType });
  });
  registerCatalogueRoutes(api, deps);
  registerFlowRoutes(api, deps);
  registerRunRoutes(api, deps);
  registerEventRoutes(api, deps);
  registerOperationRoutes(api, deps);
  registerAlertRoutes(api, deps);
  registerAuditRoutes(api, deps.audit);
  registerAuthRoutes(api, deps);
  api.add('flowJsonSchema', () => flowJsonSchema());
  const document = () => openApiDocument(api.routes, { version: VERSION });
  api.add('openApi', () => document());
  app.post('/hooks/:id', (c) => deps.webhooks.receive(c, c.req.param('id')));
  app.get('/reference', (c) => c.html(referencePage(document())));
  app.all('/api/*', () => {
    throw new ApiError(HTTP_STATUS.NOT_FOUND, 'not_found', 'no such API route');
  });
  if (options.editorDir) mountEditor(app, options.editorDir);
  return Object.assign(app, { routes: api.routes });
}

function mountEditor(app: Hono, dir: string): void {
  const index = path.join(dir, 'index.html');
  const root = path.relative(process.cwd(), dir) || '.';
  app.use('/*', serveStatic({ root }));
  app.get('*', (c) => {
    if (!existsSync(index)) {
      return c.html(
        '<h1>Sluice</h1><p>The editor is not built yet: run <code>npm start</code>.</p>',
        HTTP_STATUS.SERVICE_UNAVAILABLE,
      );
    }
    return c.html(readFileSync(index, 'utf8'));
  });
}
