import type Database from 'better-sqlite3';
import type { NewToken, TokenRow, TokenRows } from '../port.js';
import type { Db } from './open.js';

interface Row {
  id: number;
  name: string;
  prefix: string;
  hash: string;
  created_at: number;
  last_used_at: number | null;
  user_id: string | null;
  role: string;
  expires_at: number | null;
}

const token = (r: Row): TokenRow => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  hash: r.hash,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  userId: r.user_id,
  role: r.role,
  expiresAt: r.expires_at,
});

/** API tokens (their hashes), in `api_tokens`. */
export class SqliteTokens implements TokenRows {
  private readonly c: Database.Database;

  constructor(db: Db) {
    this.c = db.$client;
  }

  async insert(t: NewToken): Promise<number> {
    const info = this.c
      .prepare(
        'INSERT INTO api_tokens (name, prefix, hash, created_at, user_id, role, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(t.name, t.prefix, t.hash, t.createdAt, t.userId ?? null, t.role ?? 'admin', t.expiresAt ?? null);
    return Number(info.lastInsertRowid);
  }

  async findByHash(hash: string): Promise<TokenRow | undefined> {
    const r = this.c.prepare('SELECT * FROM api_tokens WHERE hash = ?').get(hash) as Row | undefined;
    return r ? token(r) : undefined;
  }

  async list(): Promise<TokenRow[]> {
    return (this.c.prepare('SELECT * FROM api_tokens ORDER BY id').all() as Row[]).map(token);
  }

  async delete(id: number): Promise<boolean> {
    return this.c.prepare('DELETE FROM api_tokens WHERE id = ?').run(id).changes === 1;
  }

  async count(): Promise<number> {
    return (this.c.prepare('SELECT COUNT(*) AS n FROM api_tokens').get() as { n: number }).n;
  }

  async touch(id: number, at: number): Promise<void> {
    this.c.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(at, id);
  }

  async deleteForUser(userId: string): Promise<number> {
    return this.c.prepare('DELETE FROM api_tokens WHERE user_id = ?').run(userId).changes;
  }
}
