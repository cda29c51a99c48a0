import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { ResolvedConnection } from '@sluice/engine';
import { Hono } from 'hono';
import { type ErpStats, erpApp } from './erp.js';
import { createFaults, type FaultSettingsInput, type Faults } from './faults.js';
import { maintenanceApp } from './maintenance.js';
import { createOAuthServer, type OAuthServer } from './oauth.js';

export interface SandboxOptions {
  /** Port to listen on (0: any free port). */
  port?: number;
  host?: string;
  seed?: number;
  workOrders?: number;
  maintenanceToken?: string;
  erpToken?: string;
  /** Lifetime of the access tokens its OAuth2 server issues, in ms (default 30 s). */
  tokenTtlMs?: number;
  /** Faults to start with (see faults.ts); they can be changed later through `faults` or the admin endpoints. */
  faults?: { maintenance?: FaultSettingsInput; erp?: FaultSettingsInput };
}

export interface Sandbox {
  url: string;
  /** The built-in connections that point at the sandbox systems, with their credentials. */
  connections: ResolvedConnection[];
  erpStats(): ErpStats;
  /**
   * Misbehaviour on demand per system (rate limits, 5xx, latency, downtime, expired credentials,
   * slow first byte); also at `PUT|GET|DELETE <url>/maintenance/_sandbox/faults` and `/erp/_sandbox/faults`.
   */
  faults: { maintenance: Faults; erp: Faults };
  /** The OAuth2 token endpoint at `<url>/oauth/token`, whose access tokens both systems accept. */
  oauth: OAuthServer;
  close(): Promise<void>;
}

export const SANDBOX_DEFAULTS = {
  seed: 42,
  workOrders: 1000,
  maintenanceToken: 'sandbox-maintenance-token',
  erpToken: 'sandbox-erp-token',
};

/** The built-in connections to sandbox systems served at `url`. */
export function sandboxConnections(
  url: string,
  o: { maintenanceToken?: string; erpToken?: string } = {},
): ResolvedConnection[] {
  const maintenanceToken = o.maintenanceToken ?? SANDBOX_DEFAULTS.maintenanceToken;
  const erpToken = o.erpToken ?? SANDBOX_DEFAULTS.erpToken;
  return [
    {
      name: 'maintenance-sandbox',
      baseUrl: `${url}/maintenance`,
      headers: { authorization: `Bearer ${maintenanceToken}` },
      checkPath: '/api/eam/work-orders?limit=1',
    },
    {
      name: 'erp-sandbox',
      baseUrl: `${url}/erp`,
      headers: { authorization: `Bearer ${erpToken}` },
      // behind the ERP's token check: 200 when it takes the token, 401 when it refuses it
      checkPath: '/api/erp/status',
    },
  ];
}

/** Starts the two sandbox systems on one loopback port: the maintenance system and the ERP. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const o = { ...SANDBOX_DEFAULTS, ...options };
  const oauth = createOAuthServer(options.tokenTtlMs === undefined ? {} : { tokenTtlMs: options.tokenTtlMs });
  const erp = erpApp({ token: o.erpToken, accepts: oauth.accepts });
  const faults = {
    maintenance: createFaults(options.faults?.maintenance ? { initial: options.faults.maintenance } : {}),
    erp: createFaults(options.faults?.erp ? { initial: options.faults.erp } : {}),
  };
  const app = new Hono();
  app.route(
    '/maintenance',
    withFaults(
      faults.maintenance,
      maintenanceApp({ seed: o.seed, workOrders: o.workOrders, token: o.maintenanceToken, accepts: oauth.accepts }),
    ),
  );
  app.route('/erp', withFaults(faults.erp, erp.app));
  app.route('/oauth', oauth.app);
  app.get('/', (c) => c.json({ systems: ['/maintenance', '/erp'], oauth: '/oauth/token' }));
  const host = options.host ?? '127.0.0.1';
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: host }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host}:${port}`;
  return {
    url,
    connections: sandboxConnections(url, o),
    erpStats: erp.stats,
    faults,
    oauth,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** The system behind its fault middleware, with the faults' admin endpoint at `/_sandbox/faults`. */
function withFaults(faults: Faults, system: Hono): Hono {
  const app = new Hono();
  app.route('/_sandbox/faults', faults.admin);
  app.use('*', faults.middleware);
  app.route('/', system);
  return app;
}
