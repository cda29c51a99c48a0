import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Db } from '../storage/sqlite/open.js';

const PREFIX = 'slc_';

export interface TokenInfo {
  id: number;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * API tokens. Only a SHA-256 hash of each token is stored (a stolen database reveals none), looked
 * up by hash and then compared in constant time. A token given in `SLUICE_API_TOKEN` is accepted too,
 * without being stored, for automation and tests.
 */
export class TokenStore {
  private readonly c: Database.Database;
  private readonly envHash: Buffer | undefined;
  private lastTouched = new Map<number, number>();

  constructor(
    db: Db,
    envToken: string | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.c = db.$client;
    this.envHash = envToken ? sha256(envToken) : undefined;
  }

  /** Makes a new token; the plain token is returned once and never stored. */
  create(name: string): { token: string; info: TokenInfo } {
    const token = `${PREFIX}${randomBytes(24).toString('base64url')}`;
    const prefix = token.slice(0, PREFIX.length + 4);
    const at = this.now();
    const info = this.c
      .prepare('INSERT INTO api_tokens (name, prefix, hash, created_at) VALUES (?, ?, ?, ?)')
      .run(name, prefix, sha256(token).toString('hex'), at);
    const id = Number(info.lastInsertRowid);
    return { token, info: { id, name, prefix, createdAt: new Date(at).toISOString(), lastUsedAt: null } };
  }

  /** Whether a presented token is valid. */
  verify(token: string): boolean {
    if (!token) return false;
    const hash = sha256(token);
    if (this.envHash && timingSafeEqual(hash, this.envHash)) return true;
    const row = this.c.prepare('SELECT id, hash FROM api_tokens WHERE hash = ?').get(hash.toString('hex')) as
      | { id: number; hash: string }
      | undefined;
    if (!row || !timingSafeEqual(Buffer.from(row.hash, 'hex'), hash)) return false;
    this.touch(row.id);
    return true;
  }

  list(): TokenInfo[] {
    const rows = this.c
      .prepare('SELECT id, name, prefix, created_at, last_used_at FROM api_tokens ORDER BY id')
      .all() as { id: number; name: string; prefix: string; created_at: number; last_used_at: number | null }[];
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      prefix: r.prefix,
      createdAt: new Date(r.created_at).toISOString(),
      lastUsedAt: r.last_used_at === null ? null : new Date(r.last_used_at).toISOString(),
    }));
  }

  revoke(id: number): boolean {
    return this.c.prepare('DELETE FROM api_tokens WHERE id = ?').run(id).changes === 1;
  }

  count(): number {
    return (this.c.prepare('SELECT COUNT(*) AS n FROM api_tokens').get() as { n: number }).n;
  }

  /** On a first start (no token stored, none in the environment), makes one to be printed once. */
  firstStartToken(): string | undefined {
    if (this.envHash || this.count() > 0) return undefined;
    return this.create('first start').token;
  }

  /** Notes when a token was last used, at most once a minute per token. */
  private touch(id: number): void {
    const at = this.now();
    if (at - (this.lastTouched.get(id) ?? 0) < 60_000) return;
    this.lastTouched.set(id, at);
    this.c.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(at, id);
  }
}
