import { randomBytes } from 'node:crypto';
import type { Logger } from '../../logger.js';
import { SharedBreakers } from './breakers.js';
import type { PgDb } from './db.js';
import { PgEventBus } from './events.js';
import { PgLimits } from './limits.js';
import { PgListener } from './listener.js';

export interface PgShared {
  events: PgEventBus;
  limits: PgLimits;
  breakers: SharedBreakers;
  /** The process's listening connection, which the three share. */
  listener: PgListener;
  /** Stops sharing: gives back the places held, sends what was published, closes the listening connection. */
  close(): Promise<void>;
}

/**
 * What a process on a PostgreSQL database shares with the others (`Storage.events`, `limits`,
 * `breakers`), over one listening connection and the process's pool, under one name for the process.
 * Resolves once events and queued runs of other processes are listened for.
 */
export async function openPgShared(
  db: PgDb,
  options: { logger?: Logger; placeTtlMs?: number; owner?: string } = {},
): Promise<PgShared> {
  const owner = options.owner ?? randomBytes(6).toString('hex');
  const logger = options.logger;
  const listener = PgListener.of(db, logger);
  const events = new PgEventBus(db, { listener, owner, logger });
  const limits = new PgLimits(db, { listener, owner, logger, placeTtlMs: options.placeTtlMs });
  const breakers = new SharedBreakers(db, { listener, owner, logger });
  await events.start();
  return {
    events,
    limits,
    breakers,
    listener,
    async close() {
      await breakers.close();
      await events.close();
      await limits.close();
      await listener.close();
    },
  };
}
