import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import type { Role, SessionInfo, UserView } from '@sluice/shared';
import { ConflictError, InvalidError, NotFoundError } from '../errors.js';
import type { SessionRow, SessionRows, TokenRows, UserRow, UserRows } from '../storage/port.js';
import type { Actor } from './actor.js';
import { LoginThrottle, type ThrottleOptions } from './throttle.js';
import { asRole } from './tokens.js';

/** The cookie that carries a session's secret. */
export const SESSION_COOKIE = 'sluice_session';
/** The header a cookie-authenticated state-changing request carries its session's CSRF token in. */
export const CSRF_HEADER = 'X-CSRF-Token';

/** A session ends after this long without use. */
export const SESSION_IDLE_MS = 7 * 86_400_000;
/** A session's use is written at most this often. */
const TOUCH_MS = 60_000;

const MINUTE = 60_000;
/** Per account: 5 failures in 15 minutes lock it for 30 s, doubling to 15 minutes. */
export const ACCOUNT_THROTTLE: ThrottleOptions = {
  maxFailures: 5,
  windowMs: 15 * MINUTE,
  lockMs: 30_000,
  maxLockMs: 15 * MINUTE,
};
/** Per address: more (people behind one address share it), then the same locks. */
export const ADDRESS_THROTTLE: ThrottleOptions = {
  maxFailures: 20,
  windowMs: 15 * MINUTE,
  lockMs: 30_000,
  maxLockMs: 15 * MINUTE,
};

const sha256hex = (text: string) => createHash('sha256').update(text).digest('hex');
const random = (bytes: number) => randomBytes(bytes).toString('base64url');
const iso = (ms: number) => new Date(ms).toISOString();

/** Where a request came from, kept with its session. */
export interface RequestMeta {
  address: string | null;
  userAgent: string | null;
}

/** A session just made: the secret goes into the cookie, never into storage. */
export interface NewSession {
  secret: string;
  session: SessionRow;
  user: UserRow;
}

/** Who a session cookie signs in. */
export interface Authenticated {
  actor: Actor;
  session: SessionRow;
  user: UserRow;
}

export type LoginResult =
  | ({ ok: true } & NewSession)
  | { ok: false; reason: 'wrong' }
  | { ok: false; reason: 'throttled'; retryAfterMs: number };

export function userView(u: UserRow): UserView {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: asRole(u.role),
    active: u.active,
    createdAt: iso(u.createdAt),
    updatedAt: iso(u.updatedAt),
  };
}

export function hashPassword(password: string): Promise<string> {
  // @node-rs/argon2's defaults are argon2id, 19 MiB, 2 passes: OWASP's recommended minimum
  return argonHash(password);
}

/**
 * Users, their passwords and their sessions. A session's secret (in an HttpOnly cookie) is stored
 * only as a SHA-256 hash; its CSRF token is derived from the secret, so it needs no storage and
 * changes with the session. Failed sign-ins are throttled per account and per address.
 */
export class Identity {
  private readonly now: () => number;
  private readonly accountThrottle: LoginThrottle;
  private readonly addressThrottle: LoginThrottle;
  private setupTokenHash: string | undefined;
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly rows: { users: UserRows; sessions: SessionRows; tokens: TokenRows },
    options: { now?: () => number; account?: ThrottleOptions; address?: ThrottleOptions } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.accountThrottle = new LoginThrottle({ ...(options.account ?? ACCOUNT_THROTTLE), now: this.now });
    this.addressThrottle = new LoginThrottle({ ...(options.address ?? ADDRESS_THROTTLE), now: this.now });
  }

  // ---- first start

  /**
   * While no user exists: a one-time token that lets the first admin be made (printed with the setup
   * link); made once per process and forgotten when used.
   */
  async setupToken(): Promise<string | undefined> {
    if ((await this.rows.users.count()) > 0) return undefined;
    const token = random(24);
    this.setupTokenHash = sha256hex(token);
    return token;
  }

  /** Makes the first admin with the setup token, and signs it in. */
  async setup(
    token: string,
    input: { email: string; name: string; password: string },
    meta: RequestMeta,
  ): Promise<NewSession | undefined> {
    const expected = this.setupTokenHash;
    if (!expected || !equalHex(sha256hex(token), expected)) return undefined;
    if ((await this.rows.users.count()) > 0) return undefined;
    this.setupTokenHash = undefined;
    const user = await this.createUser({ ...input, role: 'admin' });
    return this.startSession(user, meta);
  }

  // ---- signing in and out

  async login(email: string, password: string, meta: RequestMeta): Promise<LoginResult> {
    const accountKey = `account:${email}`;
    const addressKey = `address:${meta.address ?? 'unknown'}`;
    const wait = Math.max(this.accountThrottle.waitMs(accountKey), this.addressThrottle.waitMs(addressKey));
    if (wait > 0) return { ok: false, reason: 'throttled', retryAfterMs: wait };
    const user = await this.rows.users.findByEmail(email);
    // an unknown e-mail costs the same hash as a known one, so timing does not tell which exist
    const stored = user?.passwordHash ?? (await this.dummy());
    const matches = await verifyPassword(stored, password);
    if (!user?.active || !matches) {
      this.accountThrottle.fail(accountKey);
      this.addressThrottle.fail(addressKey);
      return { ok: false, reason: 'wrong' };
    }
    this.accountThrottle.clear(accountKey);
    return { ok: true, ...(await this.startSession(user, meta)) };
  }

  /** Who a session cookie's secret signs in; undefined when none, expired, or the user is inactive. */
  async authenticate(secret: string): Promise<Authenticated | undefined> {
    if (!secret || secret.length > 200) return undefined;
    const session = await this.rows.sessions.findByHash(sha256hex(secret));
    const at = this.now();
    if (!session || session.expiresAt <= at) return undefined;
    const user = await this.rows.users.find(session.userId);
    if (!user?.active) return undefined;
    if (at - session.lastSeenAt >= TOUCH_MS) {
      session.lastSeenAt = at;
      session.expiresAt = at + SESSION_IDLE_MS;
      await this.rows.sessions.touch(session.id, at, session.expiresAt);
    }
    return {
      actor: {
        kind: 'user',
        id: user.id,
        name: user.email,
        role: asRole(user.role),
        userId: user.id,
        sessionId: session.id,
      },
      session,
      user,
    };
  }

  /** The CSRF token of the session a cookie's secret belongs to. */
  csrfToken(secret: string): string {
    return createHash('sha256').update(`sluice csrf\u0000${secret}`).digest('base64url');
  }

  /** Whether a presented CSRF token is the one of this session (compared in constant time). */
  csrfMatches(secret: string, presented: string | undefined): boolean {
    if (!presented) return false;
    const expected = Buffer.from(this.csrfToken(secret));
    const given = Buffer.from(presented);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  async logout(sessionId: string): Promise<void> {
    await this.rows.sessions.delete(sessionId);
  }

  // ---- the signed-in user's own account

  /** Changes a user's password, checking the current one; signs out every session but `keepSessionId`. */
  async changePassword(userId: string, current: string, next: string, keepSessionId?: string): Promise<void> {
    const user = await this.rows.users.find(userId);
    if (!user) throw new NotFoundError('not_found', `user ${userId} does not exist`);
    if (!(await verifyPassword(user.passwordHash, current))) {
      throw new InvalidError('wrong_password', 'currentPassword: not the current password', {
        path: 'currentPassword',
      });
    }
    await this.rows.users.update({ ...user, passwordHash: await hashPassword(next), updatedAt: this.now() });
    await this.rows.sessions.deleteForUser(userId, keepSessionId);
  }

  async sessions(userId: string, currentId?: string): Promise<SessionInfo[]> {
    const at = this.now();
    return (await this.rows.sessions.listForUser(userId))
      .filter((s) => s.expiresAt > at)
      .map((s) => ({
        id: s.id,
        createdAt: iso(s.createdAt),
        lastSeenAt: iso(s.lastSeenAt),
        expiresAt: iso(s.expiresAt),
        address: s.address,
        userAgent: s.userAgent,
        current: s.id === currentId,
      }));
  }

  /** Ends one of a user's sessions; false when the user has no such session. */
  async revokeSession(userId: string, id: string): Promise<boolean> {
    const owned = (await this.rows.sessions.listForUser(userId)).some((s) => s.id === id);
    return owned && (await this.rows.sessions.delete(id));
  }

  // ---- users (admins)

  async listUsers(): Promise<UserView[]> {
    return (await this.rows.users.list()).map(userView);
  }

  async user(id: string): Promise<UserRow | undefined> {
    return this.rows.users.find(id);
  }

  async createUser(input: { email: string; name: string; role: Role; password: string }): Promise<UserRow> {
    const at = this.now();
    const row: UserRow = {
      id: `usr_${random(12)}`,
      email: input.email,
      name: input.name,
      role: input.role,
      passwordHash: await hashPassword(input.password),
      active: true,
      createdAt: at,
      updatedAt: at,
    };
    await this.rows.users.insert(row);
    return row;
  }

  /** Changes a user; deactivating one or setting its password signs out its sessions. */
  async updateUser(
    id: string,
    patch: {
      name?: string | undefined;
      role?: Role | undefined;
      active?: boolean | undefined;
      password?: string | undefined;
    },
  ): Promise<UserRow> {
    const user = await this.rows.users.find(id);
    if (!user) throw new NotFoundError('not_found', `user ${id} does not exist`);
    const next: UserRow = {
      ...user,
      name: patch.name ?? user.name,
      role: patch.role ?? user.role,
      active: patch.active ?? user.active,
      passwordHash: patch.password === undefined ? user.passwordHash : await hashPassword(patch.password),
      updatedAt: this.now(),
    };
    if (isActiveAdmin(user) && !isActiveAdmin(next)) await this.keepAnAdmin(id);
    await this.rows.users.update(next);
    if (!next.active || patch.password !== undefined) await this.rows.sessions.deleteForUser(id);
    return next;
  }

  /** Removes a user with its sessions and tokens. */
  async deleteUser(id: string): Promise<void> {
    const user = await this.rows.users.find(id);
    if (!user) throw new NotFoundError('not_found', `user ${id} does not exist`);
    if (isActiveAdmin(user)) await this.keepAnAdmin(id);
    await this.rows.sessions.deleteForUser(id);
    await this.rows.tokens.deleteForUser(id);
    await this.rows.users.delete(id);
  }

  /** Removes expired sessions (retention calls it). */
  pruneSessions(): Promise<number> {
    return this.rows.sessions.deleteExpired(this.now());
  }

  private async keepAnAdmin(leaving: string): Promise<void> {
    const others = (await this.rows.users.list()).filter((u) => u.id !== leaving && isActiveAdmin(u));
    if (!others.length) {
      throw new ConflictError('last_admin', 'this is the last active admin: make another user admin first');
    }
  }

  private async startSession(user: UserRow, meta: RequestMeta): Promise<NewSession> {
    const secret = random(32);
    const at = this.now();
    const session: SessionRow = {
      id: random(12),
      hash: sha256hex(secret),
      userId: user.id,
      createdAt: at,
      lastSeenAt: at,
      expiresAt: at + SESSION_IDLE_MS,
      address: meta.address,
      userAgent: meta.userAgent?.slice(0, 300) ?? null,
    };
    await this.rows.sessions.insert(session);
    return { secret, session, user };
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashPassword(random(16));
    return this.dummyHash;
  }
}

const isActiveAdmin = (u: UserRow) => u.active && u.role === 'admin';

function equalHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await argonVerify(stored, password);
  } catch {
    // a malformed stored hash matches nothing
    return false;
  }
}
