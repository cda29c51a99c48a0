import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { nodeTypes, roleAllows } from '@sluice/shared';
import type { Context } from 'hono';
import { z } from 'zod';
import { actorOf, roleOfActor } from '../auth/actor.js';
import { MASK } from '../connections/secrets.js';
import { REPO_ROOT } from '../paths.js';
import type { AppDeps } from './deps.js';
import type { ApiRouter } from './spec.js';

/**
 * A connection as the caller may see it: a role that may not read secrets (a viewer, an operator) is
 * not shown even the last characters of the masked secret and refresh token.
 */
function shownTo<V extends { secret: string | null; refreshToken: string | null }>(c: Context, view: V): V {
  const actor = actorOf(c);
  if (actor && roleAllows(roleOfActor(actor), 'secrets.read')) return view;
  return {
    ...view,
    secret: view.secret === null ? null : MASK,
    refreshToken: view.refreshToken === null ? null : MASK,
  };
}

/** The node types as the catalogue route gives them, with their parameters' JSON schemas. */
function catalogue() {
  return [...nodeTypes.values()].map((def) => ({
    type: def.type,
    group: def.group,
    label: def.label,
    description: def.description,
    input: def.input,
    outputs: [...def.outputs],
    role: def.role ?? null,
    providesRecords: def.providesRecords ?? false,
    params: z.toJSONSchema(def.params, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
  }));
}

/** The node-type catalogue, connections, tokens and settings. */
export function registerCatalogueRoutes(api: ApiRouter, deps: AppDeps): void {
  // made at the first request, not at start: their JSON schemas take a while to build
  let types: ReturnType<typeof catalogue> | undefined;
  api.add('listNodeTypes', () => {
    types ??= catalogue();
    return { items: types };
  });

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
  api.add('listTemplates', () => ({ items: templates }));

  api.add('listConnections', async (c) => ({ items: (await deps.connections.list()).map((v) => shownTo(c, v)) }));
  api.add('createConnection', (_c, { body }) => deps.connections.create(body));
  api.add('getConnection', async (c, { params }) => shownTo(c, await deps.connections.get(params.name)));
  api.add('updateConnection', (_c, { params, body }) => deps.connections.update(params.name, body));
  api.add('deleteConnection', async (_c, { params }) => {
    await deps.connections.delete(params.name);
    return undefined;
  });
  api.add('checkConnection', (_c, { params }) => deps.connections.check(params.name, deps.http));

  api.add('getSettings', async () => ({ ...deps.settings, secretKey: await deps.keyring.current() }));
  api.add('prune', () => deps.storage.retention.prune(deps.settings.retention));
}
