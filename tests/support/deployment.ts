import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../server/src/storage/postgres/test-database.js';
import { API_READY, logLines, type RunningServer, startCli, startSandboxProcess, WORKER_READY } from './server.js';

/**
 * Sluice processes on one PostgreSQL database, started as a user starts them: registers the hooks
 * that make a fresh test database before the file's tests, and stop every process started through
 * it and drop the database after them. Every process shares one secret key (connection secrets one
 * stores, another decrypts).
 */
export function pgDeployment() {
  let database: TestDatabase | undefined;
  const started: RunningServer[] = [];
  const secretKey = randomBytes(32).toString('hex');
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const p of started) await p.stop();
    await database?.drop();
  });
  const kept = async (p: Promise<RunningServer>) => {
    const running = await p;
    started.push(running);
    return running;
  };
  return {
    /** The sandbox systems in a process of their own, serving `workOrders` work orders. */
    sandbox: (workOrders: number) => kept(startSandboxProcess(workOrders)),
    /** A process's environment: the database, the sandbox at `sandboxUrl`, the shared key, info logs, and `extra`. */
    env(sandboxUrl: string, extra: Record<string, string> = {}): Record<string, string> {
      if (!database) throw new Error('the test database is created before the tests');
      return {
        SLUICE_DATABASE_URL: database.url,
        SLUICE_SANDBOX_URL: sandboxUrl,
        SLUICE_SECRET_KEY: secretKey,
        SLUICE_LOG_LEVEL: 'info',
        ...extra,
      };
    },
    /** `sluice serve` (API, scheduler and a worker). */
    serve: (env: Record<string, string>) => kept(startCli(['serve'], API_READY, env)),
    /** `sluice serve --no-worker` (API and scheduler, executing nothing). */
    apiOnly: (env: Record<string, string>) => kept(startCli(['serve', '--no-worker'], API_READY, env)),
    /** `sluice worker`. */
    worker: (env: Record<string, string>) => kept(startCli(['worker'], WORKER_READY, env)),
    /** The database's URL, for reading what the processes stored. */
    get url(): string {
      if (!database) throw new Error('the test database is created before the tests');
      return database.url;
    },
  };
}

/** The run ids a process's log says it started executing. */
export const startedBy = (p: RunningServer) =>
  logLines(p.output())
    .filter((l) => l.msg === 'starting the run')
    .map((l) => l.runId as string);
