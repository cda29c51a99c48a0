import { and, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import type { AuditQuery, AuditRow, AuditRows } from '../port.js';
import type { Db } from './open.js';
import { auditLog } from './schema.js';

/** The audit log in `audit_log`: appended to, read newest first, pruned by age. */
export class SqliteAudit implements AuditRows {
  constructor(private readonly db: Db) {}

  async append(entry: Omit<AuditRow, 'id'>): Promise<string> {
    const [row] = this.db.insert(auditLog).values(entry).returning({ id: auditLog.id }).all();
    if (!row) throw new Error('the audit insert returned no id');
    return String(row.id);
  }

  async list(q: AuditQuery): Promise<AuditRow[]> {
    const t = auditLog;
    const where: (SQL | undefined)[] = [
      q.actorKind !== undefined ? eq(t.actorKind, q.actorKind) : undefined,
      q.actorId !== undefined ? eq(t.actorId, q.actorId) : undefined,
      q.action !== undefined ? eq(t.action, q.action) : undefined,
      q.objectType !== undefined ? eq(t.objectType, q.objectType) : undefined,
      q.objectId !== undefined ? eq(t.objectId, q.objectId) : undefined,
      q.outcome !== undefined ? eq(t.outcome, q.outcome) : undefined,
      q.from !== undefined ? gte(t.at, q.from) : undefined,
      q.to !== undefined ? lt(t.at, q.to) : undefined,
      q.cursor !== undefined ? lt(t.id, q.cursor) : undefined,
    ];
    const rows = this.db
      .select()
      .from(t)
      .where(and(...where))
      .orderBy(desc(t.id))
      .limit(q.limit)
      .all();
    return rows.map((r) => ({ ...r, id: String(r.id) }));
  }

  async prune(before: number): Promise<number> {
    return this.db.delete(auditLog).where(lt(auditLog.at, before)).run().changes;
  }
}
