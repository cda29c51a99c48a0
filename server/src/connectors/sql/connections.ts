import {
  type ConnectionCheck,
  SqlFailure,
  type SqlLookupRequest,
  type SqlPort,
  type SqlReadRequest,
  type SqlRowResult,
  type SqlWriteRequest,
} from '@sluice/engine';
import type { SqlConnectionConfig } from './config.js';
import { mysqlDriver } from './mysql.js';
import { postgresDriver } from './postgres.js';
import { CredentialsRefused, type Driver, writeRows } from './session.js';
import { lookupStatement, readStatement } from './statements.js';

/** Longest a statement may run before it counts as a timeout (the database cancels it). */
export const STATEMENT_TIMEOUT_MS = 60_000;

/**
 * The SQL port flows use: one pool per connection, made when first used and made again when the
 * connection's settings change (the old pool is closed). `configOf` looks a connection up among
 * those loaded for the run, synchronously, as the engine's connection lookup does.
 */
export class SqlConnections implements SqlPort {
  private readonly pools = new Map<string, { fingerprint: string; driver: Driver }>();

  constructor(
    private readonly configOf: (name: string) => SqlConnectionConfig | undefined,
    private readonly timeoutMs = STATEMENT_TIMEOUT_MS,
  ) {}

  async read(connection: string, request: SqlReadRequest): Promise<Record<string, unknown>[]> {
    const driver = this.driver(connection);
    return (await driver.query(readStatement(driver.dialect, request))).rows;
  }

  write(connection: string, request: SqlWriteRequest): Promise<SqlRowResult[]> {
    return writeRows(this.driver(connection), request);
  }

  async lookup(connection: string, request: SqlLookupRequest): Promise<Record<string, unknown>[]> {
    if (!request.keys.length) return [];
    const driver = this.driver(connection);
    return (await driver.query(lookupStatement(driver.dialect, request))).rows;
  }

  /** The connection's status check: `SELECT 1`; a refused login answers status 401. */
  async check(connection: string): Promise<ConnectionCheck> {
    try {
      const driver = this.driver(connection);
      await driver.query({ text: 'SELECT 1', values: [] });
      return { ok: true, message: `SELECT 1 answered by ${describe(this.configOf(connection))}` };
    } catch (err) {
      // a refused login reads as HTTP's 401: the run's check before it starts fails it, naming the connection
      if (err instanceof CredentialsRefused) return { ok: false, status: 401, message: err.message };
      return { ok: false, message: (err as Error).message };
    }
  }

  /** Closes every pool (the process is stopping). */
  async close(): Promise<void> {
    const drivers = [...this.pools.values()].map((p) => p.driver);
    this.pools.clear();
    await Promise.all(drivers.map((d) => d.close().catch(() => {})));
  }

  private driver(name: string): Driver {
    const config = this.configOf(name);
    if (!config) throw new SqlFailure(`no SQL connection named "${name}"`, 'statement');
    const fingerprint = JSON.stringify(config);
    const known = this.pools.get(name);
    if (known?.fingerprint === fingerprint) return known.driver;
    if (known) void known.driver.close().catch(() => {});
    const driver =
      config.kind === 'postgres' ? postgresDriver(config, this.timeoutMs) : mysqlDriver(config, this.timeoutMs);
    this.pools.set(name, { fingerprint, driver });
    return driver;
  }
}

function describe(config: SqlConnectionConfig | undefined): string {
  return config ? `${config.kind} at ${config.host}:${config.port}/${config.database}` : 'the database';
}
