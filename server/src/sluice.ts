import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { systemClock } from '@sluice/engine';
import type { Config } from './config.js';
import { createConnectors } from './connectors.js';
import { databaseFile, openDatabase } from './db/open.js';
import { seedDemo } from './demo.js';
import { FlowRepository } from './flows/repository.js';
import { createApp } from './http/app.js';
import { RunLeases } from './runs/leases.js';
import { RunRepository } from './runs/repository.js';
import { Runner } from './runs/runner.js';
import { SqliteRunStore } from './runs/sqlite-run-store.js';
import { sandboxConnections, startSandbox } from './sandbox/index.js';

type PartsConfig = Pick<Config, 'dataDir' | 'sandboxPort' | 'concurrency' | 'sandboxUrl' | 'sandboxWorkOrders'>;

/** The parts every entry point needs: database, sandbox systems, repositories and the run queue. */
export async function openSluice(config: PartsConfig) {
  const db = openDatabase(databaseFile(config.dataDir));
  const sandbox = config.sandboxUrl
    ? { url: config.sandboxUrl, connections: sandboxConnections(config.sandboxUrl), close: async () => {} }
    : await startSandbox({ port: config.sandboxPort, workOrders: config.sandboxWorkOrders });
  const flows = new FlowRepository(db);
  const runs = new RunRepository(db);
  const store = new SqliteRunStore(db);
  const leases = new RunLeases(db);
  const connectors = createConnectors(sandbox.connections);
  const runner = new Runner({
    flows,
    runs,
    store,
    leases,
    connectors,
    clock: systemClock,
    concurrency: config.concurrency,
  });
  return { db, sandbox, flows, runs, store, runner };
}

export type SluiceParts = Awaited<ReturnType<typeof openSluice>>;

export interface Sluice extends SluiceParts {
  url: string;
  demoFlowId: string | undefined;
  /** Stops serving; with `cancel` false, running runs are left to be resumed by the next start. */
  close(options?: { cancel?: boolean }): Promise<void>;
}

/**
 * Starts Sluice: database (migrated), sandbox systems, demo flow on first start, the run queue
 * (which resumes runs an earlier process left running), and the HTTP server.
 */
export async function startSluice(config: Config): Promise<Sluice> {
  const parts = await openSluice(config);
  const { db, sandbox, flows, runs, runner } = parts;
  const demoFlowId = seedDemo(flows);
  runner.start();
  const app = createApp({ flows, runs, runner, connections: sandbox.connections, editorDir: config.editorDir });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = config.host === '0.0.0.0' || config.host === '127.0.0.1' ? 'localhost' : config.host;
  return {
    ...parts,
    url: `http://${shownHost}:${port}`,
    demoFlowId,
    async close({ cancel = false } = {}) {
      await runner.stop({ cancel });
      parts.store.flush();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sandbox.close();
      db.$client.close();
    },
  };
}
