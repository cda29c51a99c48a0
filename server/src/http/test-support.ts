import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger, type Logger } from '../logger.js';
import { openSluice, type SluiceParts } from '../sluice.js';
import { createTestDatabase } from '../storage/postgres/test-database.js';
import { createApp } from './app.js';

export const TEST_TOKEN = 'test-token-0123456789';

export interface TestSluice {
  parts: SluiceParts;
  dir: string;
  /** The app itself, for requests without a token. */
  raw: ReturnType<typeof createApp>;
  /** Requests with the test token. */
  app: { request(p: string, init?: RequestInit): Promise<Response> };
  close(): Promise<void>;
}

/**
 * Which store the server's tests run on: SQLite unless `SLUICE_TEST_STORE=postgres` (the test
 * project that runs the API suites again on PostgreSQL sets it).
 */
export function testStore(): 'sqlite' | 'postgres' {
  return process.env.SLUICE_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';
}

/**
 * The server's parts on a fresh store (a SQLite file in a temporary folder, or a fresh PostgreSQL
 * database: see `testStore`), with sandbox systems on loopback.
 */
export async function openTestSluice(
  options: {
    workOrders?: number;
    perFlow?: number;
    payloadCap?: number;
    start?: boolean;
    logger?: Logger;
    /** False: a process that serves only the API (claims no runs). */
    claims?: boolean;
    /** More environment for the server (SLUICE_ALERT_RETRY_MS, SLUICE_SMTP_URL…). */
    env?: Record<string, string>;
  } = {},
): Promise<TestSluice> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sluice-test-'));
  const database = testStore() === 'postgres' ? await createTestDatabase() : undefined;
  const parts = await openSluice({
    dataDir: dir,
    sandboxPort: 0,
    sandboxUrl: undefined,
    sandboxWorkOrders: options.workOrders ?? 120,
    concurrency: 4,
    perFlow: options.perFlow ?? 4,
    payloadCap: options.payloadCap ?? 65_536,
    retention: { days: 30, runsPerFlow: 100 },
    apiToken: TEST_TOKEN,
    // tests' own systems (alert receivers, fault servers) listen on 127.0.0.1; 127.0.0.2 and ::1 stay refused
    env: {
      SLUICE_ALLOW_HOSTS: '127.0.0.1',
      ...options.env,
      ...(database ? { SLUICE_DATABASE_URL: database.url } : {}),
    },
    // quiet unless a test listens: the runs of a test are not news
    logger: options.logger ?? createLogger({ level: 'silent' }),
    ...(options.claims === false ? { claims: false } : {}),
  });
  if (options.start !== false) parts.runner.start();
  // every answer is parsed with its declared schema, so any test through the app also checks the contract
  const raw = createApp(parts, { checkAnswers: true });
  const app = {
    request: (p: string, init: RequestInit = {}) =>
      Promise.resolve(
        raw.request(p, {
          ...init,
          headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${TEST_TOKEN}` },
        }),
      ),
  };
  return {
    parts,
    dir,
    raw,
    app,
    async close() {
      parts.scheduler.stop();
      await parts.runner.stop();
      await parts.alerts.stop();
      await parts.sandbox.close();
      await parts.sql.close();
      await parts.storage.close();
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
