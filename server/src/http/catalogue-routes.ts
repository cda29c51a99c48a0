import { nodeTypes } from '@sluice/shared';
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps } from './app.js';

/** The node-type catalogue and the connections, for the editor's palette and forms. */
export function catalogueRoutes(deps: Pick<AppDeps, 'connections'>): Hono {
  const app = new Hono();
  const types = [...nodeTypes.values()].map((def) => ({
    type: def.type,
    group: def.group,
    label: def.label,
    description: def.description,
    input: def.input,
    outputs: def.outputs,
    role: def.role ?? null,
    params: z.toJSONSchema(def.params, { io: 'input', unrepresentable: 'any' }),
  }));
  app.get('/node-types', (c) => c.json({ items: types }));
  app.get('/connections', (c) =>
    c.json({
      items: deps.connections.map((conn) => ({
        name: conn.name,
        baseUrl: conn.baseUrl,
        auth: 'bearer',
        builtIn: true,
      })),
    }),
  );
  return app;
}
