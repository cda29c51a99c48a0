import type Database from 'better-sqlite3';
import { ConflictError } from '../../errors.js';
import type { SessionRow, SessionRows, UserRow, UserRows } from '../port.js';
import type { Db } from './open.js';

interface UserRecord {
  id: string;
  email: string;
  name: string;
  role: string;
  password_hash: string;
  active: number;
  created_at: number;
  updated_at: number;
}

const user = (r: UserRecord): UserRow => ({
  id: r.id,
  email: r.email,
  name: r.name,
  role: r.role,
  passwordHash: r.password_hash,
  active: r.active === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

interface SessionRecord {
  id: string;
  hash: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  address: string | null;
  user_agent: string | null;
}

const session = (r: SessionRecord): SessionRow => ({
  id: r.id,
  hash: r.hash,
  userId: r.user_id,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  expiresAt: r.expires_at,
  address: r.address,
  userAgent: r.user_agent,
});

/** Users, in `users`. */
export class SqliteUsers implements UserRows {
  private readonly c: Database.Database;

  constructor(db: Db) {
    this.c = db.$client;
  }

  async insert(u: UserRow): Promise<void> {
    try {
      this.c
        .prepare(
          'INSERT INTO users (id, email, name, role, password_hash, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(u.id, u.email, u.name, u.role, u.passwordHash, u.active ? 1 : 0, u.createdAt, u.updatedAt);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new ConflictError('exists', `email: a user with the e-mail ${u.email} exists`);
      }
      throw err;
    }
  }

  async find(id: string): Promise<UserRow | undefined> {
    const r = this.c.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRecord | undefined;
    return r ? user(r) : undefined;
  }

  async findByEmail(email: string): Promise<UserRow | undefined> {
    const r = this.c.prepare('SELECT * FROM users WHERE email = ?').get(email) as UserRecord | undefined;
    return r ? user(r) : undefined;
  }

  async list(): Promise<UserRow[]> {
    return (this.c.prepare('SELECT * FROM users ORDER BY email').all() as UserRecord[]).map(user);
  }

  async update(u: UserRow): Promise<boolean> {
    const info = this.c
      .prepare('UPDATE users SET name = ?, role = ?, password_hash = ?, active = ?, updated_at = ? WHERE id = ?')
      .run(u.name, u.role, u.passwordHash, u.active ? 1 : 0, u.updatedAt, u.id);
    return info.changes === 1;
  }

  async delete(id: string): Promise<boolean> {
    // its sessions go with it (a foreign key with ON DELETE CASCADE)
    return this.c.prepare('DELETE FROM users WHERE id = ?').run(id).changes === 1;
  }

  async count(): Promise<number> {
    return (this.c.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
  }
}

/** Signed-in sessions, in `user_sessions`. */
export class SqliteSessions implements SessionRows {
  private readonly c: Database.Database;

  constructor(db: Db) {
    this.c = db.$client;
  }

  async insert(s: SessionRow): Promise<void> {
    this.c
      .prepare(
        'INSERT INTO user_sessions (id, hash, user_id, created_at, last_seen_at, expires_at, address, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(s.id, s.hash, s.userId, s.createdAt, s.lastSeenAt, s.expiresAt, s.address, s.userAgent);
  }

  async findByHash(hash: string): Promise<SessionRow | undefined> {
    const r = this.c.prepare('SELECT * FROM user_sessions WHERE hash = ?').get(hash) as SessionRecord | undefined;
    return r ? session(r) : undefined;
  }

  async listForUser(userId: string): Promise<SessionRow[]> {
    return (
      this.c
        .prepare('SELECT * FROM user_sessions WHERE user_id = ? ORDER BY created_at DESC, id')
        .all(userId) as SessionRecord[]
    ).map(session);
  }

  async touch(id: string, at: number, expiresAt: number): Promise<void> {
    this.c.prepare('UPDATE user_sessions SET last_seen_at = ?, expires_at = ? WHERE id = ?').run(at, expiresAt, id);
  }

  async delete(id: string): Promise<boolean> {
    return this.c.prepare('DELETE FROM user_sessions WHERE id = ?').run(id).changes === 1;
  }

  async deleteForUser(userId: string, exceptId?: string): Promise<number> {
    return this.c.prepare('DELETE FROM user_sessions WHERE user_id = ? AND id IS NOT ?').run(userId, exceptId ?? null)
      .changes;
  }

  async deleteExpired(before: number): Promise<number> {
    return this.c.prepare('DELETE FROM user_sessions WHERE expires_at < ?').run(before).changes;
  }
}
