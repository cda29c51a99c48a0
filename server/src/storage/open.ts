import type { Logger } from '../logger.js';
import type { Storage } from './port.js';
import { openSqliteStorage } from './sqlite/index.js';
import { databaseFile } from './sqlite/open.js';

export interface StorageOptions {
  /** The data directory (the SQLite file lives in it). */
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  payloadCap?: number;
  logger?: Logger;
  /** Lines about a long conversion at open. */
  progress?: (line: string) => void;
}

/**
 * Opens the storage the server runs on: the one place that chooses it. Today the SQLite file in the
 * data directory; a PostgreSQL database named by `SLUICE_DATABASE_URL` is to be chosen here.
 */
export async function openStorage(options: StorageOptions): Promise<Storage> {
  return openSqliteStorage(databaseFile(options.dataDir), {
    ...(options.payloadCap !== undefined ? { payloadCap: options.payloadCap } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.progress ? { progress: options.progress } : {}),
  });
}
