import { asc, eq, sql } from 'drizzle-orm';
import { ConflictError, notFound } from '../../errors.js';
import type { ConnectionFields, ConnectionRow, ConnectionRows } from '../port.js';
import type { PgDb } from './db.js';
import { pgErrorCode, UNIQUE_VIOLATION } from './errors.js';
import { connections } from './schema.js';

type Row = typeof connections.$inferSelect;

function view(r: Row): ConnectionRow {
  return {
    name: r.name,
    baseUrl: r.baseUrl,
    auth: r.authType as ConnectionRow['auth'],
    username: r.username,
    headerName: r.headerName,
    secret: r.secret,
    checkPath: r.checkPath,
    breakerThreshold: r.breakerThreshold,
    breakerCooldownMs: r.breakerCooldownMs,
    limitMaxConcurrent: r.limitMaxConcurrent,
    limitMaxPerSecond: r.limitMaxPerSecond,
    limitAdaptive: r.limitAdaptive,
    lastStatus: r.lastStatus,
    lastStatusMessage: r.lastStatusMessage,
    lastCheckedAt: r.lastCheckedAt,
  };
}

/** The columns a create or an edit writes (not the status its checks record). */
function fields(row: ConnectionFields) {
  return {
    baseUrl: row.baseUrl,
    authType: row.auth,
    username: row.username,
    headerName: row.headerName,
    secret: row.secret,
    checkPath: row.checkPath,
    breakerThreshold: row.breakerThreshold,
    breakerCooldownMs: row.breakerCooldownMs,
    limitMaxConcurrent: row.limitMaxConcurrent,
    limitMaxPerSecond: row.limitMaxPerSecond,
    limitAdaptive: row.limitAdaptive,
  };
}

/** Stored connections in PostgreSQL. A name is taken by the insert itself: two processes creating one name, one wins. */
export class PgConnectionRows implements ConnectionRows {
  constructor(private readonly db: PgDb) {}

  async list(): Promise<ConnectionRow[]> {
    // by name, in bytes, as SQLite orders text: the list reads the same whichever database is behind it
    const rows = await this.db
      .select()
      .from(connections)
      .orderBy(asc(sql`${connections.name} COLLATE "C"`));
    return rows.map(view);
  }

  async find(name: string): Promise<ConnectionRow | undefined> {
    const [row] = await this.db.select().from(connections).where(eq(connections.name, name));
    return row ? view(row) : undefined;
  }

  async insert(row: ConnectionFields, at: number): Promise<void> {
    try {
      await this.db.insert(connections).values({ name: row.name, ...fields(row), createdAt: at, updatedAt: at });
    } catch (err) {
      if (pgErrorCode(err) === UNIQUE_VIOLATION) {
        throw new ConflictError('exists', `name: a connection named "${row.name}" already exists`, { path: 'name' });
      }
      throw err;
    }
  }

  async update(row: ConnectionFields, at: number): Promise<void> {
    const updated = await this.db
      .update(connections)
      .set({ ...fields(row), updatedAt: at })
      .where(eq(connections.name, row.name))
      .returning({ name: connections.name });
    if (updated.length === 0) throw notFound('connection', row.name);
  }

  async delete(name: string): Promise<boolean> {
    const deleted = await this.db
      .delete(connections)
      .where(eq(connections.name, name))
      .returning({ name: connections.name });
    return deleted.length > 0;
  }

  async setStatus(name: string, status: string, message: string | null, at: number): Promise<void> {
    await this.db
      .update(connections)
      .set({ lastStatus: status, lastStatusMessage: message, lastCheckedAt: at })
      .where(eq(connections.name, name));
  }
}
