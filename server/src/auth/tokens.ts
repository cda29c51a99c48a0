import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { lesserRole, ROLES, type Role } from '@sluice/shared';
import type { TokenRow, TokenRows, UserRows } from '../storage/port.js';
import { type Actor, ENV_TOKEN_ACTOR } from './actor.js';

const PREFIX = 'slc_';
const DAY_MS = 86_400_000;

export interface TokenInfo {
  id: number;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  /** The user it belongs to; null: a service token. */
  userId: string | null;
  role: Role;
  expiresAt: string | null;
}

export interface NewTokenOptions {
  /** The user it belongs to; none: a service token. */
  userId?: string | null;
  /** The role it acts with (a user's token acts with at most the user's role when used); admin by default. */
  role?: Role;
  expiresInDays?: number;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** A stored role name as a role; an unknown one (a newer version's) is the least: viewer. */
export const asRole = (name: string): Role => ((ROLES as readonly string[]).includes(name) ? (name as Role) : 'viewer');

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const infoOf = (r: TokenRow): TokenInfo => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  createdAt: new Date(r.createdAt).toISOString(),
  lastUsedAt: iso(r.lastUsedAt),
  userId: r.userId,
  role: asRole(r.role),
  expiresAt: iso(r.expiresAt),
});

/**
 * API tokens. Only a SHA-256 hash of each token is stored (a stolen database reveals none), looked
 * up by hash and then compared in constant time. A token belongs to a user (and acts with at most that
 * user's role, so demoting or deactivating the user reaches its tokens at once) or is a service token
 * with a role of its own; it may expire. A token given in `SLUICE_API_TOKEN` is accepted too, without
 * being stored, as an admin service token for automation and tests.
 */
export class TokenStore {
  private readonly envHash: Buffer | undefined;
  private lastTouched = new Map<number, number>();

  constructor(
    private readonly rows: TokenRows,
    envToken: string | undefined,
    private readonly now: () => number = Date.now,
    /** The users tokens may belong to; without them, a user's token is refused. */
    private readonly users?: UserRows,
  ) {
    this.envHash = envToken ? sha256(envToken) : undefined;
  }

  /** Makes a new token; the plain token is returned once and never stored. */
  async create(name: string, options: NewTokenOptions = {}): Promise<{ token: string; info: TokenInfo }> {
    const token = `${PREFIX}${randomBytes(24).toString('base64url')}`;
    const prefix = token.slice(0, PREFIX.length + 4);
    const at = this.now();
    const row = {
      name,
      prefix,
      hash: sha256(token).toString('hex'),
      createdAt: at,
      userId: options.userId ?? null,
      role: options.role ?? 'admin',
      expiresAt: options.expiresInDays ? at + options.expiresInDays * DAY_MS : null,
    };
    const id = await this.rows.insert(row);
    return { token, info: infoOf({ ...row, id, lastUsedAt: null }) };
  }

  /** Whether a presented token is valid. */
  async verify(token: string): Promise<boolean> {
    return (await this.identify(token)) !== undefined;
  }

  /** Who a presented token acts for; undefined when it is not valid (unknown, expired, or its user inactive). */
  async identify(token: string): Promise<Actor | undefined> {
    if (!token) return undefined;
    const hash = sha256(token);
    if (this.envHash && timingSafeEqual(hash, this.envHash)) return ENV_TOKEN_ACTOR;
    const row = await this.rows.findByHash(hash.toString('hex'));
    if (!row || !timingSafeEqual(Buffer.from(row.hash, 'hex'), hash)) return undefined;
    if (row.expiresAt !== null && this.now() >= row.expiresAt) return undefined;
    let role = asRole(row.role);
    if (row.userId !== null) {
      const user = await this.users?.find(row.userId);
      if (!user?.active) return undefined;
      role = lesserRole(role, asRole(user.role));
    }
    await this.touch(row.id);
    return {
      kind: 'token',
      id: String(row.id),
      name: row.name,
      role,
      ...(row.userId !== null ? { userId: row.userId } : {}),
    };
  }

  /** Every token, or only a user's. */
  async list(userId?: string): Promise<TokenInfo[]> {
    const rows = await this.rows.list();
    return rows.filter((r) => userId === undefined || r.userId === userId).map(infoOf);
  }

  /** One token's description. */
  async get(id: number): Promise<TokenInfo | undefined> {
    const row = (await this.rows.list()).find((r) => r.id === id);
    return row ? infoOf(row) : undefined;
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
