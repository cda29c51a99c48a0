import type { HttpClient } from '@sluice/engine';
import type { PaceView, Settings } from '@sluice/shared';
import type { Alerts } from '../alerts/alerts.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Identity } from '../auth/identity.js';
import type { TokenStore } from '../auth/tokens.js';
import type { SecretKeyInfo } from '../connections/keyring.js';
import type { ConnectionRepository } from '../connections/repository.js';
import type { FlowRepository } from '../flows/repository.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { RunEstimates } from '../runs/estimate.js';
import type { Runner } from '../runs/runner.js';
import type { Scheduler } from '../schedules/scheduler.js';
import type { EventBus, RunQueries, Storage } from '../storage/port.js';
import type { Webhooks } from '../webhooks/webhooks.js';

/** What the HTTP app is built from; apart from app.ts so route files can name it without importing the app. */
export interface AppDeps {
  storage: Storage;
  /** Run events for the live views (of every process on the database, with PostgreSQL). */
  events: EventBus;
  flows: FlowRepository;
  runs: RunQueries;
  runner: Runner;
  connections: ConnectionRepository;
  http: HttpClient;
  scheduler: Scheduler;
  webhooks: Webhooks;
  /** Alert rules and their deliveries. */
  alerts: Alerts;
  tokens: TokenStore;
  settings: Omit<Settings, 'secretKey'>;
  /** The secret key ring, whose current key the settings show. */
  keyring: { current(): Promise<SecretKeyInfo> };
  /** The audit log: every request to a route that changes something is recorded in it. */
  audit: AuditLog;
  /** Proxies whose X-Forwarded-For the audit log believes (SLUICE_TRUSTED_PROXIES); none: the header is ignored. */
  trustedProxies?: readonly string[];
  /** Users, their sessions and signing in. */
  identity: Identity;
  /** Run estimates and running runs' ETAs. */
  estimates: RunEstimates;
  /** The pace adaptive pacing has learnt per connection, in this process (the operations view). */
  limits?: { current(connection: string): PaceView | undefined };
  /** Where unexpected errors are logged (none given: a logger on stdout). */
  logger?: Logger;
  /** This process's metrics, served at /metrics; none: /metrics answers 404. */
  metrics?: Metrics;
  /** /metrics answers without a token (SLUICE_METRICS_PUBLIC=1). */
  metricsPublic?: boolean;
}
