import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TokenRows } from '../storage/port.js';
import { type Actor, ENV_TOKEN_ACTOR } from './actor.js';

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
  private readonly envHash: Buffer | undefined;
  private lastTouched = new Map<number, number>();

  constructor(
    private readonly rows: TokenRows,
    envToken: string | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.envHash = envToken ? sha256(envToken) : undefined;
  }

  /** Makes a new token; the plain token is returned once and never stored. */
  async create(name: string): Promise<{ token: string; info: TokenInfo }> {
    const token = `${PREFIX}${randomBytes(24).toString('base64url')}`;
    const prefix = token.slice(0, PREFIX.length + 4);
    const at = this.now();
    const id = await this.rows.insert({ name, prefix, hash: sha256(token).toString('hex'), createdAt: at });
    return { token, info: { id, name, prefix, createdAt: new Date(at).toISOString(), lastUsedAt: null } };
  }

  /** Whether a presented token is valid. */
  async verify(token: string): Promise<boolean> {
    return (await this.identify(token)) !== undefined;
  }

  /** Who a presented token acts for; undefined when it is not valid. */
  async identify(token: string): Promise<Actor | undefined> {
    if (!token) return undefined;
    const hash = sha256(token);
    if (this.envHash && timingSafeEqual(hash, this.envHash)) return ENV_TOKEN_ACTOR;
    const row = await this.rows.findByHash(hash.toString('hex'));
    if (!row || !timingSafeEqual(Buffer.from(row.hash, 'hex'), hash)) return undefined;
    await this.touch(row.id);
    return { kind: 'token', id: String(row.id), name: row.name };
  }

  async list(): Promise<TokenInfo[]> {
    return (await this.rows.list()).map((r) => ({
      id: r.id,
      name: r.name,
      prefix: r.prefix,
      createdAt: new Date(r.createdAt).toISOString(),
      lastUsedAt: r.lastUsedAt === null ? null : new Date(r.lastUsedAt).toISOString(),
    }));
  }

  revoke(id: number): Promise<boolean> {
    return this.rows.delete(id);
  }

  count(): Promise<number> {
    return this.rows.count();
  }

  /** On a first start (no token stored, none in the environment), makes one to be printed once. */
  async firstStartToken(): Promise<string | undefined> {
    if (this.envHash || (await this.count()) > 0) return undefined;
    return (await this.create('first start')).token;
  }

  /** Notes when a token was last used, at most once a minute per token. */
  private async touch(id: number): Promise<void> {
    const at = this.now();
    if (at - (this.lastTouched.get(id) ?? 0) < 60_000) return;
    this.lastTouched.set(id, at);
    await this.rows.touch(id, at);
  }
}
