import { and, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import type { AuditQuery, AuditRow, AuditRows } from '../port.js';
import type { PgDb } from './db.js';
import { fromPgText, fromPgTextOrNull, toPgText, toPgTextOrNull } from './pg-text.js';
import { auditLog } from './schema.js';

/** Every text of an entry as PostgreSQL can store it (an id from a refused request's path may hold NUL). */
function toPg(e: Omit<AuditRow, 'id'>): Omit<AuditRow, 'id'> {
  return {
    ...e,
    actorKind: toPgText(e.actorKind),
    actorId: toPgText(e.actorId),
    actorName: toPgText(e.actorName),
    address: toPgTextOrNull(e.address),
    action: toPgText(e.action),
    objectType: toPgText(e.objectType),
    objectId: toPgTextOrNull(e.objectId),
    summary: toPgTextOrNull(e.summary),
    outcome: toPgText(e.outcome),
    error: toPgTextOrNull(e.error),
  };
}

function fromPg(e: AuditRow): AuditRow {
  return {
    ...e,
    actorKind: fromPgText(e.actorKind),
    actorId: fromPgText(e.actorId),
    actorName: fromPgText(e.actorName),
    address: fromPgTextOrNull(e.address),
    action: fromPgText(e.action),
    objectType: fromPgText(e.objectType),
    objectId: fromPgTextOrNull(e.objectId),
    summary: fromPgTextOrNull(e.summary),
    outcome: fromPgText(e.outcome),
    error: fromPgTextOrNull(e.error),
  };
}

/** The audit log in PostgreSQL: appended to, read newest first, pruned by age. */
export class PgAudit implements AuditRows {
  constructor(private readonly db: PgDb) {}

  async append(entry: Omit<AuditRow, 'id'>): Promise<string> {
    const [row] = await this.db.insert(auditLog).values(toPg(entry)).returning({ id: auditLog.id });
    if (!row) throw new Error('the audit insert returned no id');
    return String(row.id);
  }

  async list(q: AuditQuery): Promise<AuditRow[]> {
    const t = auditLog;
    const where: (SQL | undefined)[] = [
      q.actorKind !== undefined ? eq(t.actorKind, toPgText(q.actorKind)) : undefined,
      q.actorId !== undefined ? eq(t.actorId, toPgText(q.actorId)) : undefined,
      q.action !== undefined ? eq(t.action, toPgText(q.action)) : undefined,
      q.objectType !== undefined ? eq(t.objectType, toPgText(q.objectType)) : undefined,
      q.objectId !== undefined ? eq(t.objectId, toPgText(q.objectId)) : undefined,
      q.outcome !== undefined ? eq(t.outcome, toPgText(q.outcome)) : undefined,
      q.from !== undefined ? gte(t.at, q.from) : undefined,
      q.to !== undefined ? lt(t.at, q.to) : undefined,
      q.cursor !== undefined ? lt(t.id, q.cursor) : undefined,
    ];
    const rows = await this.db
      .select()
      .from(t)
      .where(and(...where))
      .orderBy(desc(t.id))
      .limit(q.limit);
    return rows.map((r) => fromPg({ ...r, id: String(r.id) }));
  }

  async prune(before: number): Promise<number> {
    const gone = await this.db.delete(auditLog).where(lt(auditLog.at, before)).returning({ id: auditLog.id });
    return gone.length;
  }
}
