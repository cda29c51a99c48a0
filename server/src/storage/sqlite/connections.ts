import type Database from 'better-sqlite3';
import { ConflictError } from '../../errors.js';
import type { ConnectionFields, ConnectionRow, ConnectionRows } from '../port.js';
import type { Db } from './open.js';

interface Row {
  name: string;
  base_url: string;
  auth_type: ConnectionRow['auth'];
  username: string | null;
  header_name: string | null;
  secret: string | null;
  check_path: string | null;
  breaker_threshold: number | null;
  breaker_cooldown_ms: number | null;
  limit_max_concurrent: number | null;
  limit_max_per_second: number | null;
  limit_adaptive: number;
  last_status: string | null;
  last_status_message: string | null;
  last_checked_at: number | null;
}

const connection = (r: Row): ConnectionRow => ({
  name: r.name,
  baseUrl: r.base_url,
  auth: r.auth_type,
  username: r.username,
  headerName: r.header_name,
  secret: r.secret,
  checkPath: r.check_path,
  breakerThreshold: r.breaker_threshold,
  breakerCooldownMs: r.breaker_cooldown_ms,
  limitMaxConcurrent: r.limit_max_concurrent,
  limitMaxPerSecond: r.limit_max_per_second,
  limitAdaptive: r.limit_adaptive === 1,
  lastStatus: r.last_status,
  lastStatusMessage: r.last_status_message,
  lastCheckedAt: r.last_checked_at,
});

/** Stored connections (secrets sealed by the domain before they get here), in `connections`. */
export class SqliteConnections implements ConnectionRows {
  private readonly c: Database.Database;

  constructor(db: Db) {
    this.c = db.$client;
  }

  async list(): Promise<ConnectionRow[]> {
    return (this.c.prepare('SELECT * FROM connections ORDER BY name').all() as Row[]).map(connection);
  }

  async find(name: string): Promise<ConnectionRow | undefined> {
    const r = this.c.prepare('SELECT * FROM connections WHERE name = ?').get(name) as Row | undefined;
    return r ? connection(r) : undefined;
  }

  async insert(row: ConnectionFields, at: number): Promise<void> {
    try {
      this.c
        .prepare(
          `INSERT INTO connections (name, base_url, auth_type, username, header_name, secret, check_path,
             breaker_threshold, breaker_cooldown_ms, limit_max_concurrent, limit_max_per_second, limit_adaptive, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(...fields(row), at, at);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE')
        throw new ConflictError('exists', `name: a connection named "${row.name}" already exists`, { path: 'name' });
      throw err;
    }
  }

  async update(row: ConnectionFields, at: number): Promise<void> {
    const [name, ...rest] = fields(row);
    this.c
      .prepare(
        `UPDATE connections SET base_url = ?, auth_type = ?, username = ?, header_name = ?, secret = ?, check_path = ?,
           breaker_threshold = ?, breaker_cooldown_ms = ?, limit_max_concurrent = ?, limit_max_per_second = ?,
           limit_adaptive = ?, updated_at = ? WHERE name = ?`,
      )
      .run(...rest, at, name);
  }

  async delete(name: string): Promise<boolean> {
    return this.c.prepare('DELETE FROM connections WHERE name = ?').run(name).changes === 1;
  }

  async setStatus(name: string, status: string, message: string | null, at: number): Promise<void> {
    this.c
      .prepare('UPDATE connections SET last_status = ?, last_status_message = ?, last_checked_at = ? WHERE name = ?')
      .run(status, message, at, name);
  }
}

/** The stored fields in column order, the name first. */
function fields(r: ConnectionFields) {
  return [
    r.name,
    r.baseUrl,
    r.auth,
    r.username,
    r.headerName,
    r.secret,
    r.checkPath,
    r.breakerThreshold,
    r.breakerCooldownMs,
    r.limitMaxConcurrent,
    r.limitMaxPerSecond,
    r.limitAdaptive ? 1 : 0,
  ] as const;
}
