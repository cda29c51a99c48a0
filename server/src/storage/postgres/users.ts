import { and, asc, count, desc, eq, lt, ne } from 'drizzle-orm';
import { ConflictError } from '../../errors.js';
import type { SessionRow, SessionRows, UserRow, UserRows } from '../port.js';
import type { PgDb } from './db.js';
import { pgErrorCode, UNIQUE_VIOLATION } from './errors.js';
import { userSessions, users } from './schema.js';

/** Users in PostgreSQL. */
export class PgUserRows implements UserRows {
  constructor(private readonly db: PgDb) {}

  async insert(row: UserRow): Promise<void> {
    try {
      await this.db.insert(users).values(row);
    } catch (err) {
      if (pgErrorCode(err) === UNIQUE_VIOLATION) {
        throw new ConflictError('exists', `email: a user with the e-mail ${row.email} exists`);
      }
      throw err;
    }
  }

  async find(id: string): Promise<UserRow | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.id, id));
    return row;
  }

  async findByEmail(email: string): Promise<UserRow | undefined> {
    const [row] = await this.db.select().from(users).where(eq(users.email, email));
    return row;
  }

  async list(): Promise<UserRow[]> {
    return this.db.select().from(users).orderBy(asc(users.email));
  }

  async update(row: UserRow): Promise<boolean> {
    const { name, role, passwordHash, active, updatedAt } = row;
    const changed = await this.db
      .update(users)
      .set({ name, role, passwordHash, active, updatedAt })
      .where(eq(users.id, row.id))
      .returning({ id: users.id });
    return changed.length > 0;
  }

  async delete(id: string): Promise<boolean> {
    // its sessions go with it (a foreign key with ON DELETE CASCADE)
    const deleted = await this.db.delete(users).where(eq(users.id, id)).returning({ id: users.id });
    return deleted.length > 0;
  }

  async count(): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(users);
    return row?.n ?? 0;
  }
}

/** Signed-in sessions in PostgreSQL. */
export class PgSessionRows implements SessionRows {
  constructor(private readonly db: PgDb) {}

  async insert(row: SessionRow): Promise<void> {
    await this.db.insert(userSessions).values(row);
  }

  async findByHash(hash: string): Promise<SessionRow | undefined> {
    const [row] = await this.db.select().from(userSessions).where(eq(userSessions.hash, hash));
    return row;
  }

  async listForUser(userId: string): Promise<SessionRow[]> {
    return this.db
      .select()
      .from(userSessions)
      .where(eq(userSessions.userId, userId))
      .orderBy(desc(userSessions.createdAt), asc(userSessions.id));
  }

  async touch(id: string, at: number, expiresAt: number): Promise<void> {
    await this.db.update(userSessions).set({ lastSeenAt: at, expiresAt }).where(eq(userSessions.id, id));
  }

  async delete(id: string): Promise<boolean> {
    const deleted = await this.db
      .delete(userSessions)
      .where(eq(userSessions.id, id))
      .returning({ id: userSessions.id });
    return deleted.length > 0;
  }

  async deleteForUser(userId: string, exceptId?: string): Promise<number> {
    const deleted = await this.db
      .delete(userSessions)
      .where(
        exceptId === undefined
          ? eq(userSessions.userId, userId)
          : and(eq(userSessions.userId, userId), ne(userSessions.id, exceptId)),
      )
      .returning({ id: userSessions.id });
    return deleted.length;
  }

  async deleteExpired(before: number): Promise<number> {
    const deleted = await this.db
      .delete(userSessions)
      .where(lt(userSessions.expiresAt, before))
      .returning({ id: userSessions.id });
    return deleted.length;
  }
}
