import type { Watermarks } from '@sluice/engine';
import type { Logger } from '../../logger.js';
import type { NewRun, RecordQuery, RunListQuery, RunQueries, Storage, StorageReadiness } from '../port.js';
import { answers, migrationsCheck } from '../readiness.js';
import { PgAlerts } from './alerts.js';
import { PgAudit } from './audit.js';
import { PgChangeHashes } from './change-hashes.js';
import { PgConnectionRows } from './connections.js';
import {
  idleInTransactionFor,
  newestKnownMigration,
  openPostgres,
  type PgDb,
  ping,
  recordedMigration,
  redactUrl,
} from './db.js';
import { PgEstimateRows } from './estimates.js';
import { PgFlowRows } from './flows.js';
import { PgHookRows } from './hooks.js';
import { PgLeases } from './leases.js';
import { PgOutcomeQueries } from './outcomes.js';
import { PgRetention } from './retention.js';
import { PgRunStore } from './run-store.js';
import { PgRunsCore } from './runs-core.js';
import { PgSecrets } from './secrets.js';
import { openPgShared } from './shared.js';
import { PgScheduleSlots } from './slots.js';
import { PgTokenRows } from './tokens.js';
import { PgSessionRows, PgUserRows } from './users.js';

/**
 * The run queries on PostgreSQL: the runs themselves (runs-core.ts) and their record outcomes
 * (outcomes.ts), one object as the port has it.
 */
export class PgRunQueries implements RunQueries {
  private readonly core: PgRunsCore;
  private readonly outcomes: PgOutcomeQueries;

  constructor(db: PgDb) {
    this.core = new PgRunsCore(db);
    this.outcomes = new PgOutcomeQueries(db);
  }

  create = (run: NewRun) => this.core.create(run);
  inputs = (runId: string, from: number, limit: number) => this.core.inputs(runId, from, limit);
  get = (id: string) => this.core.get(id);
  versionOf = (id: string) => this.core.versionOf(id);
  list = (q: RunListQuery) => this.core.list(q);
  cancelQueued = (id: string) => this.core.cancelQueued(id);
  activeOf = (flowId: string) => this.core.activeOf(flowId);
  selectionSize = (retryRunId: string) => this.core.selectionSize(retryRunId);
  watermarksOf = (flowId: string) => this.core.watermarksOf(flowId);
  listWatermarks = (flowId: string) => this.core.listWatermarks(flowId);
  advanceWatermarks = (flowId: string, runId: string, watermarks: Watermarks) =>
    this.core.advanceWatermarks(flowId, runId, watermarks);
  records = (runId: string, q: RecordQuery) => this.outcomes.records(runId, q);
  history = (flowId: string, key: string, limit: number) => this.outcomes.history(flowId, key, limit);
  collected = (runId: string, q: { nodeId?: string; limit: number; cursor?: number }) =>
    this.outcomes.collected(runId, q);
  errorGroups = (runId: string, limit: number) => this.outcomes.errorGroups(runId, limit);
  failedForReplay = (runId: string, after: number, limit: number, retryRunId?: string) =>
    this.outcomes.failedForReplay(runId, after, limit, retryRunId);
  notFailed = (runId: string, seqs: readonly number[]) => this.outcomes.notFailed(runId, seqs);
  unfinishedCounts = () => this.core.unfinishedCounts();
}

export interface PostgresStorageOptions {
  payloadCap?: number;
  logger?: Logger;
  /** How long a claim on a run lasts without renewal (ms); 15 s by default. */
  leaseTtlMs?: number;
  /** The lease owner id (tests stand for other processes with it); `<host>/<pid>/<random>` by default. */
  leaseOwner?: string;
  /** Connections in the pool (10 by default). */
  poolSize?: number;
}

/** The storage on PostgreSQL, with its pool for the tests that reach past the port. */
export interface PostgresStorage extends Storage {
  readonly kind: 'postgres';
  readonly db: PgDb;
}

/**
 * Opens the storage on the PostgreSQL database at `url`: checks and migrates it (refusing, in one
 * line naming SLUICE_DATABASE_URL, a database it cannot reach or one newer than this build), then
 * builds every store on one pool, and what processes share as it happens (run events, connection
 * limits, breaker states) on one listening connection.
 */
export async function openPostgresStorage(url: string, options: PostgresStorageOptions = {}): Promise<PostgresStorage> {
  const db = await openPostgres(url, {
    ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
    idleInTransactionMs: idleInTransactionFor(options.leaseTtlMs),
  });
  const runStore = new PgRunStore(db, {
    ...(options.payloadCap === undefined ? {} : { payloadCap: options.payloadCap }),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const leases = new PgLeases(db, options.leaseTtlMs, options.leaseOwner);
  // what the processes on this database share as it happens: run events, connection limits, breakers
  const shared = await openPgShared(db, {
    owner: leases.owner,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  let closed: Promise<void> | undefined;
  return {
    kind: 'postgres',
    location: redactUrl(url),
    db,
    flows: new PgFlowRows(db),
    runs: new PgRunQueries(db),
    runStore,
    leases,
    slots: new PgScheduleSlots(db),
    hooks: new PgHookRows(db),
    alerts: new PgAlerts(db),
    secrets: new PgSecrets(db),
    audit: new PgAudit(db),
    connections: new PgConnectionRows(db),
    tokens: new PgTokenRows(db),
    users: new PgUserRows(db),
    sessions: new PgSessionRows(db),
    estimates: new PgEstimateRows(db),
    changes: new PgChangeHashes(db),
    retention: new PgRetention(db),
    events: shared.events,
    limits: shared.limits,
    breakers: shared.breakers,
    async readiness(): Promise<StorageReadiness> {
      const { alive, detail } = runStore.writerStatus();
      const writer = { ready: alive, detail };
      if (closed) {
        const gone = { ready: false, detail: 'the storage is closed' };
        return { database: gone, migrations: gone, writer };
      }
      let recorded: number | null = null;
      const database = await answers(async () => {
        await ping(db);
        recorded = await recordedMigration(db);
      });
      const migrations = database.ready
        ? migrationsCheck(recorded, newestKnownMigration())
        : { ready: false, detail: 'not checked: the database does not answer' };
      return { database, migrations, writer };
    },
    close() {
      closed ??= (async () => {
        await runStore.close();
        await shared.close();
        await db.$client.end();
      })();
      return closed;
    },
  };
}
