import type { Logger } from '../logger.js';
import type { Storage } from './port.js';
import { DATABASE_URL_VARIABLE, StorageStartError } from './postgres/db.js';

export { StorageStartError };

import { openPostgresStorage } from './postgres/index.js';
import { openSqliteStorage } from './sqlite/index.js';
import { databaseFile, NewerDatabaseError } from './sqlite/open.js';

export interface StorageOptions {
  /** The data directory (the SQLite file lives in it). */
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  payloadCap?: number;
  logger?: Logger;
  /** Lines about a long conversion at open. */
  progress?: (line: string) => void;
  /** How long a lease on a run holds unless renewed (15 s by default). */
  leaseTtlMs?: number;
}

/** Whether `openStorage` opens a database several processes may share (PostgreSQL), not a SQLite file. */
export const sharedStorage = (env: NodeJS.ProcessEnv | undefined): boolean => Boolean(env?.[DATABASE_URL_VARIABLE]);

/**
 * Opens the storage the server runs on: the one place that chooses it. The PostgreSQL database
 * `SLUICE_DATABASE_URL` names, when it is set (any number of processes may share it); otherwise the
 * SQLite file in the data directory (one process). A database that cannot be used is refused with a
 * `StorageStartError` whose message is one line naming the variable and the reason.
 */
export async function openStorage(options: StorageOptions): Promise<Storage> {
  const url = options.env?.[DATABASE_URL_VARIABLE];
  if (url)
    return openPostgresStorage(url, {
      ...(options.payloadCap !== undefined ? { payloadCap: options.payloadCap } : {}),
      ...(options.leaseTtlMs !== undefined ? { leaseTtlMs: options.leaseTtlMs } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  try {
    return await openSqliteStorage(databaseFile(options.dataDir), {
      ...(options.payloadCap !== undefined ? { payloadCap: options.payloadCap } : {}),
      ...(options.leaseTtlMs !== undefined ? { leaseTtlMs: options.leaseTtlMs } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.progress ? { progress: options.progress } : {}),
    });
  } catch (err) {
    if (err instanceof NewerDatabaseError) throw new StorageStartError(`SLUICE_DATA_DIR: ${err.message}`);
    throw err;
  }
}
