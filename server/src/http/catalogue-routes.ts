import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { nodeTypes } from '@sluice/shared';
import { z } from 'zod';
import { REPO_ROOT } from '../config.js';
import { connectionInput, connectionPatch } from '../connections/repository.js';
import { prune } from '../runs/retention.js';
import type { AppDeps } from './app.js';
import type { ApiRouter } from './spec.js';

const connectionName = z.object({ name: z.string().min(1).max(63) });

/** The node-type catalogue, connections, tokens and settings. */
export function registerCatalogueRoutes(api: ApiRouter, deps: AppDeps): void {
  const types = [...nodeTypes.values()].map((def) => ({
    type: def.type,
    group: def.group,
    label: def.label,
    description: def.description,
    input: def.input,
    outputs: def.outputs,
    role: def.role ?? null,
    providesRecords: def.providesRecords ?? false,
    params: z.toJSONSchema(def.params, { io: 'input', unrepresentable: 'any' }),
  }));
  api.add(
    'get',
    '/api/node-types',
    { tag: 'catalogue', summary: 'Every node type with its parameter schema', responses: { 200: '{ items }' } },
    (c) => c.json({ items: types }),
  );

  const templates = readdirSync(path.join(REPO_ROOT, 'examples'))
    .filter((f) => f.endsWith('.flow.json'))
    .sort()
    .map((file) => {
      const document = JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples', file), 'utf8')) as {
        name: string;
        description?: string;
      };
      return { file, name: document.name, description: document.description ?? null, document };
    });
  api.add(
    'get',
    '/api/templates',
    {
      tag: 'catalogue',
      summary: 'Example flows to start from (the files in examples/)',
      responses: { 200: '{ items }' },
    },
    (c) => c.json({ items: templates }),
  );

  api.add(
    'get',
    '/api/connections',
    { tag: 'connections', summary: 'Connections, secrets masked', responses: { 200: '{ items }' } },
    (c) => c.json({ items: deps.connections.list() }),
  );
  api.add(
    'post',
    '/api/connections',
    {
      tag: 'connections',
      summary: 'Create a connection; its secret is encrypted at rest and never returned',
      body: connectionInput,
      responses: { 201: 'The connection, secret masked', 400: 'A bad field, named', 409: 'The name is taken' },
    },
    (c, { body }) => c.json(deps.connections.create(body), 201),
  );
  api.add(
    'get',
    '/api/connections/{name}',
    {
      tag: 'connections',
      summary: 'One connection, secret masked',
      params: connectionName,
      responses: { 200: 'The connection', 404: 'No such connection' },
    },
    (c, { params }) => c.json(deps.connections.get(params.name)),
  );
  api.add(
    'patch',
    '/api/connections/{name}',
    {
      tag: 'connections',
      summary: 'Change a connection (secret: null removes the secret; leave it out to keep it)',
      params: connectionName,
      body: connectionPatch,
      responses: { 200: 'The connection', 400: 'A bad field, named', 404: 'No such connection', 409: 'Built in' },
    },
    (c, { params, body }) => c.json(deps.connections.update(params.name, body)),
  );
  api.add(
    'delete',
    '/api/connections/{name}',
    {
      tag: 'connections',
      summary: 'Delete a connection',
      params: connectionName,
      responses: { 204: 'Deleted', 404: 'No such connection', 409: 'Built in' },
    },
    (c, { params }) => {
      deps.connections.delete(params.name);
      return c.body(null, 204);
    },
  );
  api.add(
    'post',
    '/api/connections/{name}/check',
    {
      tag: 'connections',
      summary: 'Call the system with the connection’s credentials and store the status',
      params: connectionName,
      responses: { 200: '{ state: ok | unauthorized | error, message, checkedAt }', 404: 'No such connection' },
    },
    async (c, { params }) => c.json(await deps.connections.check(params.name, deps.http)),
  );

  api.add(
    'get',
    '/api/tokens',
    { tag: 'auth', summary: 'API tokens (names and prefixes only)', responses: { 200: '{ items }' } },
    (c) => c.json({ items: deps.tokens.list() }),
  );
  api.add(
    'post',
    '/api/tokens',
    {
      tag: 'auth',
      summary: 'Create an API token; the token is in this answer only',
      body: z.strictObject({ name: z.string().trim().min(1).max(100) }),
      responses: { 201: '{ token, info }', 400: 'No name' },
    },
    (c, { body }) => c.json(deps.tokens.create(body.name), 201),
  );
  api.add(
    'delete',
    '/api/tokens/{id}',
    {
      tag: 'auth',
      summary: 'Revoke an API token',
      params: z.object({ id: z.coerce.number().int().min(1) }),
      responses: { 204: 'Revoked', 404: 'No such token' },
    },
    (c, { params }) => {
      if (!deps.tokens.revoke(params.id))
        return c.json({ error: { code: 'not_found', message: `token ${params.id} does not exist` } }, 404);
      return c.body(null, 204);
    },
  );

  api.add(
    'get',
    '/api/settings',
    { tag: 'settings', summary: 'The server’s limits and retention (read-only)', responses: { 200: 'Settings' } },
    (c) => c.json(deps.settings),
  );
  api.add(
    'post',
    '/api/maintenance/prune',
    { tag: 'settings', summary: 'Apply the retention policy now', responses: { 200: '{ runs, outcomes } removed' } },
    (c) => c.json(prune(deps.db, deps.settings.retention)),
  );
}
