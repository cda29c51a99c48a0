import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { systemClock } from '@sluice/engine';
import type { Config } from './config.js';
import { createConnectors } from './connectors.js';
import { databaseFile, openDatabase } from './db/open.js';
import { seedDemo } from './demo.js';
import { FlowRepository } from './flows/repository.js';
import { createApp } from './http/app.js';
import { RunRepository } from './runs/repository.js';
import { Runner } from './runs/runner.js';
import { SqliteRunStore } from './runs/sqlite-run-store.js';
import { type Sandbox, startSandbox } from './sandbox/index.js';

export interface Sluice {
  url: string;
  sandbox: Sandbox;
  runner: Runner;
  flows: FlowRepository;
  runs: RunRepository;
  demoFlowId: string | undefined;
  recovered: { requeued: number; interrupted: number };
  close(): Promise<void>;
}

/** The parts every entry point needs: database, sandbox systems, repositories and the run queue. */
export async function openSluice(config: Pick<Config, 'dataDir' | 'sandboxPort' | 'concurrency'>) {
  const db = openDatabase(databaseFile(config.dataDir));
  const sandbox = await startSandbox({ port: config.sandboxPort });
  const flows = new FlowRepository(db);
  const runs = new RunRepository(db);
  const store = new SqliteRunStore(db);
  const connectors = createConnectors(sandbox.connections);
  const runner = new Runner({ flows, runs, store, connectors, clock: systemClock, concurrency: config.concurrency });
  return { db, sandbox, flows, runs, store, runner };
}

/** Starts Sluice: database (migrated), sandbox systems, demo flow on first start, run queue, HTTP server. */
export async function startSluice(config: Config): Promise<Sluice> {
  const parts = await openSluice(config);
  const { db, sandbox, flows, runs, runner } = parts;
  const demoFlowId = seedDemo(flows);
  const recovered = runner.recover();
  const app = createApp({ flows, runs, runner, connections: sandbox.connections, editorDir: config.editorDir });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = config.host === '0.0.0.0' || config.host === '127.0.0.1' ? 'localhost' : config.host;
  return {
    url: `http://${shownHost}:${port}`,
    sandbox,
    runner,
    flows,
    runs,
    demoFlowId,
    recovered,
    async close() {
      await runner.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sandbox.close();
      db.$client.close();
    },
  };
}
