import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { serve } from '@hono/node-server';
import type { RunEvent, RunResult } from '@sluice/engine';
import { Alerts } from './alerts/alerts.js';
import { AlertDeliverer } from './alerts/deliveries.js';
import { AuditLog } from './audit/audit-log.js';
import { Identity } from './auth/identity.js';
import { TokenStore } from './auth/tokens.js';
import { QuickJsSandbox } from './code/sandbox.js';
import type { Config } from './config.js';
import { AdaptiveLimits } from './connections/adaptive.js';
import { SecretKeyring } from './connections/keyring.js';
import { LocalLimits } from './connections/limits.js';
import { ConnectionRepository } from './connections/repository.js';
import { loadSecretKey, SecretBox } from './connections/secrets.js';
import { SqlConnections } from './connectors/sql/index.js';
import { seedDemo } from './demo.js';
import { createFilePort, filesDir } from './files.js';
import { FlowRepository } from './flows/repository.js';
import { createApp, type Settings } from './http/app.js';
import { corsOriginsFrom } from './http/security.js';
import { createPooledHttpClient, fetchOver } from './http-client.js';
import { createLogger, type Logger, logLevelFrom } from './logger.js';
import { METRICS_TOKEN_MESSAGE, Metrics } from './metrics/metrics.js';
import { firstNotReady, notReadyMessage, readiness } from './metrics/readiness.js';
import { nodeRuntime, systemClock } from './node-runtime.js';
import { allowListFromEnv, OutboundGuard } from './outbound-guard.js';
import { RunEstimates } from './runs/estimate.js';
import { startPruning } from './runs/pruning.js';
import { Runner } from './runs/runner.js';
import { tuneRuntime } from './runtime-flags.js';
import { sandboxConnections, startSandbox } from './sandbox/index.js';
import { Scheduler } from './schedules/scheduler.js';
import { LocalEventBus } from './storage/local-shared.js';
import { openStorage, sharedStorage } from './storage/open.js';
import { startTracing } from './tracing/start.js';
import { Webhooks } from './webhooks/webhooks.js';

type PartsConfig = Pick<
  Config,
  | 'dataDir'
  | 'sandboxPort'
  | 'concurrency'
  | 'sandboxUrl'
  | 'sandboxWorkOrders'
  | 'perFlow'
  | 'payloadCap'
  | 'retention'
  | 'apiToken'
> &
  Partial<Pick<Config, 'leaseTtlMs' | 'sandboxTokenTtlMs'>> & {
    env?: NodeJS.ProcessEnv;
    /** Where the server logs (tests pass one writing to a buffer); by default JSON lines on stdout at SLUICE_LOG_LEVEL. */
    logger?: Logger;
    /** The folder file nodes read and write, instead of SLUICE_FILES_DIR or `<data dir>/files` (the CLI's --files). */
    filesDir?: string;
    /** Whether this process claims queued runs (see `RunnerOptions.claims`); default true. */
    claims?: boolean;
  };

/** The parts every entry point needs: storage, sandbox systems, repositories, the run queue, schedules. */
export async function openSluice(config: PartsConfig) {
  tuneRuntime();
  const env = config.env ?? process.env;
  const logger = config.logger ?? createLogger({ level: logLevelFrom(env) });
  // read before anything is opened: a malformed entry stops the start
  const allowHosts = allowListFromEnv(env);
  const storage = await openStorage({
    dataDir: config.dataDir,
    env,
    payloadCap: config.payloadCap,
    logger,
    ...(config.leaseTtlMs !== undefined ? { leaseTtlMs: config.leaseTtlMs } : {}),
  });
  const sandbox = await (async () =>
    config.sandboxUrl
      ? { url: config.sandboxUrl, connections: sandboxConnections(config.sandboxUrl), close: async () => {} }
      : await startSandbox({
          port: config.sandboxPort,
          workOrders: config.sandboxWorkOrders,
          ...(config.sandboxTokenTtlMs !== undefined ? { tokenTtlMs: config.sandboxTokenTtlMs } : {}),
        }))().catch(async (err: unknown) => {
    await storage.close();
    throw err;
  });
  // stored secrets are sealed with the key ring's data keys, kept in the database and sealed with the
  // master key (SLUICE_SECRET_KEY or the data folder's secret.key), so `sluice secrets rotate` can change
  // them while every process runs
  const box = new SecretKeyring(storage.secrets, new SecretBox(loadSecretKey(config.dataDir, env).key));
  await box.load().catch(async (err: unknown) => {
    await sandbox.close();
    await storage.close();
    throw err;
  });
  const flows = new FlowRepository(storage.flows);
  const runs = storage.runs;
  // run events for the live views: on PostgreSQL those of every process, on SQLite this one's
  const events = storage.events ?? new LocalEventBus();
  const store = storage.runStore;
  const connections = new ConnectionRepository(storage.connections, box, sandbox.connections);
  // this process's metrics (/metrics): the run queue and the writer's lag are read when scraped
  const metrics = new Metrics({
    queue: () => runs.unfinishedCounts(),
    writerLagRows: () => store.writerStatus().lagRows,
  });
  // requests sent on a user's behalf reach no loopback, private or link-local address unless
  // SLUICE_ALLOW_HOSTS lists it; the sandbox systems (on loopback) are allowed
  const guard = new OutboundGuard([...allowHosts, new URL(sandbox.url).host]);
  // keep-alive pools, one per connection: a run's requests reuse a few sockets, each counted and timed
  const pooled = createPooledHttpClient({ guard });
  // OAuth2 token requests, behind the same guard; a token endpoint's redirect is not followed (as oauth4webapi asks)
  const tokenHttp = createPooledHttpClient({ guard, maxRedirects: 0 });
  connections.useTokenFetch(fetchOver(tokenHttp.http));
  // OpenTelemetry traces when OTEL_EXPORTER_OTLP_ENDPOINT is set: a CLIENT span per request, with traceparent;
  // the metrics count every request (sluice_http_requests_total, its duration)
  const tracing = await startTracing(env, { logger });
  const http = metrics.instrumentHttp(tracing ? tracing.wrapHttp(pooled.http) : pooled.http);
  const code = new QuickJsSandbox();
  // databases flows read and write (connections of kind postgres and mysql), a pool per connection
  const sql = new SqlConnections((name) => connections.sqlConfig(name));
  connections.useSqlCheck((name) => sql.check(name));
  const files = createFilePort(config.filesDir ?? filesDir(config.dataDir, env));
  // adaptive pacing in front of the connections' limits, for connections that ask for it (learnt in each
  // process); the operations view reads the pace learnt
  const limits = new AdaptiveLimits(storage.limits ?? new LocalLimits());
  const estimates = new RunEstimates(storage.estimates, files, {
    http,
    connection: (name) => connections.resolve(name),
  });
  const runner = new Runner({
    flows,
    runs,
    changes: storage.changes,
    store,
    leases: storage.leases,
    connections,
    connectors: {
      ...connections.connectors(http),
      files,
      // code nodes' JavaScript runs on a thread of its own, in QuickJS
      sandbox: code,
      // traced: a CLIENT span per statement, under the node and batch that sent it
      sql: tracing ? tracing.wrapSql(sql, (name) => connections.sqlConfig(name)) : sql,
      // a connection's limits hold across every run of every process on the database (PostgreSQL),
      // or of this process (SQLite: one process)
      limits,
    },
    wake: events,
    clock: systemClock,
    runtime: nodeRuntime,
    concurrency: config.concurrency,
    perFlow: config.perFlow,
    logger,
    ...(config.claims === false ? { claims: false } : {}),
    ...(tracing ? { tracing } : {}),
    observer: metrics,
  });
  metrics.watchBreakers(runner.breakers);
  runner.events.on('event', (event: RunEvent) => events.publish(event));
  // a breaker one process opens is open in all of them (PostgreSQL); a no-op with one process
  await storage.breakers?.attach(runner.breakers);
  // alerts: rules per flow, raised here when a run this process executed finishes, sent by whichever process claims them
  const alerts = new Alerts({
    rows: storage.alerts,
    box,
    flows,
    runs,
    smtpUrl: env.SLUICE_SMTP_URL,
    // delivered and failed deliveries are kept as long as record outcomes
    keepMs: config.retention.days * 86_400_000,
    logger: logger.child({ part: 'alerts' }),
    deliverer: new AlertDeliverer({
      rows: storage.alerts,
      box,
      channels: { http, smtpUrl: env.SLUICE_SMTP_URL, smtpFrom: env.SLUICE_SMTP_FROM },
      owner: storage.leases.owner,
      logger: logger.child({ part: 'alerts' }),
      ...alertTimings(env),
    }),
  });
  runner.events.on('finished', (result: RunResult, flowId?: string | null) => {
    alerts.runFinished(result.runId, flowId).catch((err: unknown) => {
      logger.error({ err, runId: result.runId }, 'the alerts of a finished run could not be raised');
    });
  });
  const scheduler = new Scheduler({
    slots: storage.slots,
    flows,
    runs,
    runner,
    logger,
    onMissed: (missed) => {
      alerts.slotMissed(missed).catch((err: unknown) => {
        logger.error({ err, flowId: missed.flowId }, 'the alerts of a missed schedule slot could not be raised');
      });
    },
    onFire: (flowId) => metrics.scheduleFired(flowId),
  });
  const webhooks = new Webhooks(storage.hooks, box, flows, runner);
  const tokens = new TokenStore(storage.tokens, config.apiToken, Date.now, storage.users);
  const identity = new Identity({ users: storage.users, sessions: storage.sessions, tokens: storage.tokens });
  const audit = new AuditLog(storage.audit);
  const settings: Omit<Settings, 'secretKey'> = {
    concurrency: config.concurrency,
    perFlow: config.perFlow,
    payloadCap: config.payloadCap,
    retention: config.retention,
  };
  return {
    storage,
    events,
    sandbox,
    flows,
    runs,
    store,
    runner,
    connections,
    http,
    /** Closes the HTTP client's pools (their idle sockets would not keep the process alive anyway). */
    closeHttp: () => {
      pooled.close();
      tokenHttp.close();
    },
    /** Ends the spans of runs still open here and sends every span (no-op when tracing is off). */
    closeTracing: async () => {
      await tracing?.shutdown();
    },
    sql,
    scheduler,
    webhooks,
    alerts,
    tokens,
    /** Who changed what: the API records its requests here; other changes (a backup) are recorded by their code. */
    audit,
    identity,
    settings,
    /** The secret key ring: seals and opens stored secrets; its current key is shown in the settings. */
    keyring: box,
    logger,
    estimates,
    code,
    limits,
    metrics,
    /** SLUICE_TRUSTED_PROXIES: the reverse proxies whose X-Forwarded-For the audit log takes the client address from. */
    trustedProxies: (env.SLUICE_TRUSTED_PROXIES ?? '')
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean),
    /** SLUICE_METRICS_PUBLIC=1: /metrics answers without a token. */
    metricsPublic: env.SLUICE_METRICS_PUBLIC === '1',
  };
}

export type SluiceParts = Awaited<ReturnType<typeof openSluice>>;

/**
 * What a process does. `all` (`sluice serve`, `npm start`): the API and editor, the scheduler and
 * retention, and it executes runs. `api` (`sluice serve --no-worker`): the same, but it claims no runs
 * (what it queues waits for a worker). `worker` (`sluice worker`): it claims and executes runs and
 * serves only a health port. More than one process needs PostgreSQL (`SLUICE_DATABASE_URL`).
 */
export type SluiceRole = 'all' | 'api' | 'worker';

export interface Sluice extends SluiceParts {
  role: SluiceRole;
  /** The API's address; a worker's health port. */
  url: string;
  demoFlowId: string | undefined;
  /** A token made on this first start (printed once), if one was. */
  firstToken: string | undefined;
  /** While no user exists: the one-time token of the link that makes the first admin (printed once). */
  setupToken: string | undefined;
  /** Stops serving; with `cancel` false, running runs are left to be resumed by the next start. */
  close(options?: { cancel?: boolean }): Promise<void>;
}

/** A role other than `all` on SQLite: one process owns the file, so there is no one to share the work with. */
export class RoleNeedsDatabaseError extends Error {
  constructor(role: SluiceRole) {
    const what = role === 'worker' ? 'sluice worker' : 'sluice serve --no-worker';
    super(
      `${what} needs SLUICE_DATABASE_URL (a PostgreSQL database the processes share); on SQLite Sluice is one process: use sluice serve`,
    );
  }
}

/**
 * Starts Sluice in a role (default `all`): database (migrated), sandbox systems, then per role: the
 * demo flow and first token on first start, schedules, retention and the HTTP server (`all`, `api`);
 * the run queue, which resumes runs an earlier process left running (`all`, `worker`); a health port
 * (`worker`). A role other than `all` on SQLite is refused with `RoleNeedsDatabaseError` before
 * anything is opened.
 */
export async function startSluice(
  config: Config & { logger?: Logger; role?: SluiceRole; env?: NodeJS.ProcessEnv },
): Promise<Sluice> {
  const role = config.role ?? 'all';
  if (role !== 'all' && !sharedStorage(config.env ?? process.env)) throw new RoleNeedsDatabaseError(role);
  // read before anything is opened, so a bad list stops the start with its message
  const corsOrigins = corsOriginsFrom(config.env ?? process.env);
  const parts = await openSluice({ ...config, claims: role !== 'api' });
  const { storage, sandbox, flows, runner, scheduler } = parts;
  const serves = role !== 'worker';
  const demoFlowId = serves ? await seedDemo(flows) : undefined;
  const firstToken = serves ? await parts.tokens.firstStartToken() : undefined;
  const setupToken = serves ? await parts.identity.setupToken() : undefined;
  // an API-only process starts its runner too: it renews the leases of its test runs, claims nothing else
  runner.start();
  if (serves) scheduler.start();
  // every process sends alert deliveries (each claimed by one) and watches its runs' durations
  parts.alerts.start();
  // the run store's writer thread starts with the server, not with the first run (a failure to start is logged)
  parts.store.ready().catch(() => {});
  const auditRetention = { log: parts.audit, days: config.auditRetentionDays ?? 365 };
  const stopPruning = serves
    ? startPruning(storage.retention, config.retention, parts.logger, undefined, auditRetention)
    : () => {};
  // an expired session is refused when used; this removes its row, hourly
  const sessionPruning = serves
    ? setInterval(() => {
        parts.identity.pruneSessions().catch((err: unknown) => {
          parts.logger.error({ err }, 'expired sessions could not be removed; tried again in an hour');
        });
      }, 3_600_000).unref()
    : undefined;
  const server = serves ? await listenApi(parts, config, corsOrigins) : await listenHealth(parts, config);
  const { port } = server.address() as AddressInfo;
  parts.logger.info(
    { role, host: config.host, port, dataDir: config.dataDir, sandbox: sandbox.url },
    serves ? 'Sluice is listening' : 'Sluice worker is running; its health port is listening',
  );
  const shownHost = config.host === '0.0.0.0' || config.host === '127.0.0.1' ? 'localhost' : config.host;
  return {
    ...parts,
    role,
    url: `http://${shownHost}:${port}`,
    demoFlowId,
    firstToken,
    setupToken,
    async close({ cancel = false } = {}) {
      scheduler.stop();
      stopPruning();
      clearInterval(sessionPruning);
      await runner.stop({ cancel });
      await parts.alerts.stop();
      await parts.store.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      parts.closeHttp();
      await sandbox.close();
      await parts.code.close();
      await parts.sql.close();
      await storage.close();
      await parts.closeTracing();
    },
  };
}

/**
 * Alert delivery timings from the environment: SLUICE_ALERT_RETRY_MS (the wait before the second
 * attempt, doubled for each later one; default 2000) and SLUICE_ALERT_ATTEMPTS (default 8).
 */
function alertTimings(env: NodeJS.ProcessEnv): { retryBaseMs?: number; maxAttempts?: number } {
  const positive = (name: string, max: number) => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${name}: must be a whole number from 1 to ${max}`);
    return n;
  };
  const retryBaseMs = positive('SLUICE_ALERT_RETRY_MS', 3_600_000);
  const maxAttempts = positive('SLUICE_ALERT_ATTEMPTS', 100);
  return { ...(retryBaseMs ? { retryBaseMs } : {}), ...(maxAttempts ? { maxAttempts } : {}) };
}

type Listening = Pick<Server, 'address' | 'close'>;

async function listenApi(parts: SluiceParts, config: Config, corsOrigins: string[]): Promise<Listening> {
  const app = createApp(parts, { editorDir: config.editorDir, corsOrigins });
  return new Promise<Listening>((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
  });
}

/**
 * A worker's only port: `GET /health` answers what a load balancer or orchestrator checks (the role,
 * the runs executing here, the lease owner id its claims carry in the database); `GET /ready` its
 * readiness as `/api/ready` answers it (200, or 503 naming what is not ready); `GET /metrics` its
 * metrics (with an API token unless SLUICE_METRICS_PUBLIC=1); anything else 404. It listens on
 * SLUICE_HEALTH_PORT (0: a free one) so that several workers on one machine do not collide on PORT.
 */
async function listenHealth(parts: SluiceParts, config: Config): Promise<Listening> {
  const json = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/health') {
      json(res, 200, {
        status: 'ok',
        role: 'worker',
        runs: parts.runner.activeCount,
        owner: parts.storage.leases.owner,
      });
      return;
    }
    if (req.method === 'GET' && path === '/ready') {
      const r = await readiness({ storage: parts.storage });
      if (r.ready) json(res, 200, { status: 'ready', checks: r.checks });
      else json(res, 503, { error: { code: 'not_ready', message: notReadyMessage(r), path: firstNotReady(r) } });
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
      if (!parts.metricsPublic && !(token && (await parts.tokens.verify(token)))) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="sluice"');
        json(res, 401, { error: { code: 'unauthorized', message: METRICS_TOKEN_MESSAGE, path: 'Authorization' } });
        return;
      }
      const { contentType, body } = await parts.metrics.render();
      res.writeHead(200, { 'content-type': contentType }).end(body);
      return;
    }
    json(res, 404, { error: 'not found' });
  };
  const server = createServer((req, res) => {
    answer(req, res).catch((err: unknown) => {
      parts.logger.error({ err, path: req.url }, 'the health port could not answer');
      if (!res.headersSent) json(res, 500, { error: { code: 'internal', message: 'internal error' } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.healthPort, config.host, () => resolve());
  });
  return server;
}
