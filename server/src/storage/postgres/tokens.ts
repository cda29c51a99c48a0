import { asc, count, eq } from 'drizzle-orm';
import { ConflictError } from '../../errors.js';
import type { NewToken, TokenRow, TokenRows } from '../port.js';
import type { PgDb } from './db.js';
import { pgErrorCode, UNIQUE_VIOLATION } from './errors.js';
import { apiTokens } from './schema.js';

/** API tokens (their hashes) in PostgreSQL. */
export class PgTokenRows implements TokenRows {
  constructor(private readonly db: PgDb) {}

  async insert(token: NewToken): Promise<number> {
    try {
      const [row] = await this.db.insert(apiTokens).values(token).returning({ id: apiTokens.id });
      if (!row) throw new Error('the token insert returned no id');
      return row.id;
    } catch (err) {
      // 256 random bits twice over does not happen; a caller re-inserting a token does
      if (pgErrorCode(err) === UNIQUE_VIOLATION) throw new ConflictError('exists', 'this token is already stored');
      throw err;
    }
  }

  async findByHash(hash: string): Promise<TokenRow | undefined> {
    const [row] = await this.db.select().from(apiTokens).where(eq(apiTokens.hash, hash));
    return row;
  }

  async list(): Promise<TokenRow[]> {
    return this.db.select().from(apiTokens).orderBy(asc(apiTokens.id));
  }

  async delete(id: number): Promise<boolean> {
    const deleted = await this.db.delete(apiTokens).where(eq(apiTokens.id, id)).returning({ id: apiTokens.id });
    return deleted.length > 0;
  }

  async count(): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(apiTokens);
    return row?.n ?? 0;
  }

  async touch(id: number, at: number): Promise<void> {
    await this.db.update(apiTokens).set({ lastUsedAt: at }).where(eq(apiTokens.id, id));
  }

  async deleteForUser(userId: string): Promise<number> {
    const deleted = await this.db.delete(apiTokens).where(eq(apiTokens.userId, userId)).returning({ id: apiTokens.id });
    return deleted.length;
  }
}
