import path from 'node:path';
import { type LogLevel, logLevelFrom } from './logger.js';
import { REPO_ROOT } from './paths.js';

export interface Config {
  port: number;
  host: string;
  /** A worker's health port (`sluice worker`); 0 picks a free one. */
  healthPort: number;
  dataDir: string;
  /** Port of the sandbox systems; 0 picks a free one. */
  sandboxPort: number;
  /** Use sandbox systems already running at this URL (e.g. `pnpm sandbox`) instead of starting them. */
  sandboxUrl: string | undefined;
  /** Work orders the in-process maintenance sandbox serves. */
  sandboxWorkOrders: number;
  /** Lifetime of the access tokens the in-process sandbox's OAuth2 endpoint issues, in ms (default 30 s). */
  sandboxTokenTtlMs?: number;
  editorDir: string;
  /** Runs executing at once in this process. */
  concurrency: number;
  /** Runs of one flow executing at once. */
  perFlow: number;
  /**
   * How long a process's lease on a run holds unless renewed (renewed every third of it): a run whose
   * process died is taken over by another this long after its last renewal.
   */
  leaseTtlMs: number;
  /** Largest stored payload of a failed record (characters of JSON). */
  payloadCap: number;
  /** Record outcomes are kept for this many days, and for each flow's newest this many runs. */
  retention: { days: number; runsPerFlow: number };
  /** Audit log entries are kept for this many days (SLUICE_AUDIT_RETENTION_DAYS, default 365). */
  auditRetentionDays?: number;
  /** A token the API accepts without it being stored (automation, tests). */
  apiToken: string | undefined;
  /** The least severe level logged (SLUICE_LOG_LEVEL). */
  logLevel: LogLevel;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${name}: must be a whole number from ${min} to ${max} (got "${raw}")`);
  return n;
}

/** Reads settings from the environment (see the README's list). */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: int(env, 'PORT', 3000, 0, 65535),
    host: env.HOST || '127.0.0.1',
    healthPort: int(env, 'SLUICE_HEALTH_PORT', 0, 0, 65535),
    dataDir: path.resolve(env.SLUICE_DATA_DIR || 'data'),
    sandboxPort: int(env, 'SLUICE_SANDBOX_PORT', 0, 0, 65535),
    sandboxUrl: env.SLUICE_SANDBOX_URL || undefined,
    sandboxWorkOrders: int(env, 'SLUICE_SANDBOX_WORK_ORDERS', 1000, 0, 100_000_000),
    ...(env.SLUICE_SANDBOX_TOKEN_TTL_MS
      ? { sandboxTokenTtlMs: int(env, 'SLUICE_SANDBOX_TOKEN_TTL_MS', 30_000, 1000, 86_400_000) }
      : {}),
    editorDir: path.join(REPO_ROOT, 'editor', 'dist'),
    concurrency: int(env, 'SLUICE_CONCURRENCY', 4, 1, 64),
    perFlow: int(env, 'SLUICE_FLOW_CONCURRENCY', 1, 1, 64),
    leaseTtlMs: int(env, 'SLUICE_LEASE_TTL_MS', 15_000, 3_000, 600_000),
    payloadCap: int(env, 'SLUICE_PAYLOAD_CAP', 65_536, 256, 16 * 1024 * 1024),
    retention: {
      days: int(env, 'SLUICE_RETENTION_DAYS', 30, 1, 36_500),
      runsPerFlow: int(env, 'SLUICE_RETENTION_RUNS', 100, 1, 1_000_000),
    },
    auditRetentionDays: int(env, 'SLUICE_AUDIT_RETENTION_DAYS', 365, 1, 36_500),
    apiToken: env.SLUICE_API_TOKEN || undefined,
    logLevel: logLevelFrom(env),
  };
}
