import type { Logger } from '../../logger.js';
import type { Storage, StorageReadiness } from '../port.js';
import { answers, migrationsCheck } from '../readiness.js';
import { SqliteAlerts } from './alerts.js';
import { SqliteAudit } from './audit.js';
import { SqliteChangeHashes } from './change-hashes.js';
import { SqliteConnections } from './connections.js';
import { type ConvertOptions, openStoreDatabase } from './convert-outcomes.js';
import { SqliteEstimates } from './estimates.js';
import { SqliteFlows } from './flows.js';
import { SqliteHooks } from './hooks.js';
import { SqliteLeases } from './leases.js';
import { type Db, latestMigrationMillis, recordedMigration } from './open.js';
import { SqliteRetention } from './retention.js';
import { SqliteRunStore } from './run-store.js';
import { SqliteRunQueries } from './runs.js';
import { SqliteSecrets } from './secrets.js';
import { SqliteSlots } from './slots.js';
import { SqliteTokens } from './tokens.js';
import { SqliteSessions, SqliteUsers } from './users.js';

/** The storage on one SQLite file; `db` is the connection, for tests and tools that read it directly. */
export interface SqliteStorage extends Storage {
  readonly kind: 'sqlite';
  readonly db: Db;
}

export interface SqliteStorageOptions {
  /** Largest stored payload or collected output, in characters of JSON. */
  payloadCap?: number;
  logger?: Logger;
  /** Lines about a long conversion of outcomes stored before the packed layout. */
  progress?: ConvertOptions['progress'];
  /** The lease clock and time to live (tests). */
  now?: () => number;
  leaseTtlMs?: number;
  /** The lease owner id (tests stand for other processes with it); `<host>/<pid>/<random>` by default. */
  leaseOwner?: string;
}

/**
 * Opens (or creates) the SQLite file with its migrations applied and older outcomes converted, and
 * the storage over it. `close` stops the run store's writer thread, then closes the connection.
 */
export async function openSqliteStorage(file: string, options: SqliteStorageOptions = {}): Promise<SqliteStorage> {
  const db = openStoreDatabase(file, options.progress ? { progress: options.progress } : {});
  const runStore = new SqliteRunStore(db, {
    ...(options.payloadCap !== undefined ? { payloadCap: options.payloadCap } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  let closed = false;
  return {
    kind: 'sqlite',
    location: file,
    db,
    flows: new SqliteFlows(db),
    runs: new SqliteRunQueries(db, options.now),
    runStore,
    leases: new SqliteLeases(db, options.now, options.leaseTtlMs, options.leaseOwner),
    slots: new SqliteSlots(db),
    hooks: new SqliteHooks(db),
    alerts: new SqliteAlerts(db),
    secrets: new SqliteSecrets(db),
    audit: new SqliteAudit(db),
    connections: new SqliteConnections(db),
    tokens: new SqliteTokens(db),
    users: new SqliteUsers(db),
    sessions: new SqliteSessions(db),
    estimates: new SqliteEstimates(db),
    changes: new SqliteChangeHashes(db),
    retention: new SqliteRetention(db),
    async readiness(): Promise<StorageReadiness> {
      const { alive, detail } = runStore.writerStatus();
      const database = await answers(async () => db.$client.prepare('SELECT 1').get());
      let migrations = { ready: false, detail: 'not checked: the database does not answer' };
      if (database.ready) {
        try {
          migrations = migrationsCheck(recordedMigration(db.$client), latestMigrationMillis());
        } catch (err) {
          migrations = { ready: false, detail: `the migrations could not be read: ${(err as Error).message}` };
        }
      }
      return { database, migrations, writer: { ready: alive, detail } };
    },
    async close() {
      if (closed) return;
      closed = true;
      await runStore.close();
      db.$client.close();
    },
  };
}

/** The SQLite connection under a storage, for tests and tools that read it directly; throws for another kind. */
export function sqliteClient(storage: Storage): Db {
  if (storage.kind !== 'sqlite' || !('db' in storage)) throw new Error(`not an SQLite storage (${storage.kind})`);
  return (storage as SqliteStorage).db;
}
