import {
  HTTP_STATUS,
  type Permission,
  ROLE_PERMISSIONS,
  ROUTE_PERMISSIONS,
  type RouteName,
  roleAllows,
  type SessionView,
} from '@sluice/shared';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { type Actor, actorOf, roleOfActor, setActor } from '../auth/actor.js';
import {
  CSRF_HEADER,
  type NewSession,
  type RequestMeta,
  SESSION_COOKIE,
  SESSION_IDLE_MS,
  userView,
} from '../auth/identity.js';
import type { AppDeps } from './deps.js';
import { ApiError } from './errors.js';

/** Methods that change nothing, which need no CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const SESSION_KEY = 'sluiceSessionSecret';

/** The token a request carries: `Authorization: Bearer …`, or for an event stream `?access_token=`. */
export function bearerOf(c: Context): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
  const fromQuery = c.req.method === 'GET' && c.req.path.endsWith('/events') ? c.req.query('access_token') : undefined;
  return match?.[1] ?? fromQuery;
}

function unauthorized(c: Context, message: string): Response {
  c.header('WWW-Authenticate', 'Bearer realm="sluice"');
  return c.json({ error: { code: 'unauthorized', message, path: 'Authorization' } }, HTTP_STATUS.UNAUTHORIZED);
}

/**
 * Works out who an API request acts for and records it (`setActor`); answers 401 when nobody. An
 * `Authorization` header (or a stream's `access_token`) wins and needs no CSRF token: a page cannot make
 * a browser send one. Otherwise the session cookie signs a user in; then every state-changing request
 * must carry the session's CSRF token in `X-CSRF-Token` (403 without), since a browser sends the cookie
 * by itself.
 */
export async function authenticate(c: Context, deps: AppDeps): Promise<Response | undefined> {
  const token = bearerOf(c);
  if (token !== undefined || c.req.header('authorization') !== undefined) {
    const actor = token ? await deps.tokens.identify(token) : undefined;
    if (!actor) {
      return unauthorized(
        c,
        token
          ? 'Authorization: this token is not valid (create one with: pnpm sluice token create)'
          : 'Authorization: send "Authorization: Bearer <token>" (create a token with: pnpm sluice token create)',
      );
    }
    setActor(c, actor);
    return undefined;
  }
  const secret = getCookie(c, SESSION_COOKIE);
  const signedIn = secret ? await deps.identity.authenticate(secret) : undefined;
  if (!secret || !signedIn) {
    return unauthorized(
      c,
      secret
        ? 'the session has ended: sign in again'
        : 'Authorization: sign in, or send "Authorization: Bearer <token>" (create a token with: pnpm sluice token create)',
    );
  }
  if (!SAFE_METHODS.has(c.req.method) && !deps.identity.csrfMatches(secret, c.req.header(CSRF_HEADER))) {
    return c.json(
      {
        error: {
          code: 'csrf',
          message: `${CSRF_HEADER}: a request signed in by the session cookie must send the session's CSRF token (GET /api/session answers it)`,
          path: CSRF_HEADER,
        },
      },
      HTTP_STATUS.FORBIDDEN,
    );
  }
  c.set(SESSION_KEY as never, { secret, expiresAt: signedIn.session.expiresAt } as never);
  setActor(c, signedIn.actor);
  return undefined;
}

/** Refuses (403, naming the permission) a request whose actor's role lacks the route's permission. */
export function authorize(c: Context, name: RouteName): void {
  const permission: Permission = ROUTE_PERMISSIONS[name];
  if (permission === 'public') return;
  const actor = actorOf(c);
  // the authentication middleware lets no request without an actor reach a non-public route
  const role = actor ? roleOfActor(actor) : undefined;
  if (role && roleAllows(role, permission)) return;
  throw new ApiError(
    HTTP_STATUS.FORBIDDEN,
    'forbidden',
    `forbidden: this needs the permission "${permission}", which the role ${role ?? '(none)'} does not have`,
    undefined,
    undefined,
    permission,
  );
}

/** The session a request signed in with (its cookie's secret, and when it expires), if it did. */
export function sessionOf(c: Context): { secret: string; expiresAt: number } | undefined {
  return c.get(SESSION_KEY as never) as { secret: string; expiresAt: number } | undefined;
}

/** Where a request came from: the peer's address (a proxy's, behind one) and its user agent. */
export function requestMeta(c: Context): RequestMeta {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return {
    address: incoming?.socket?.remoteAddress ?? null,
    userAgent: c.req.header('user-agent') ?? null,
  };
}

/** Whether the request came over TLS (directly, or as a proxy in front says). */
function overTls(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

/** Sets the session cookie: HttpOnly, SameSite=Strict, Secure over TLS, for the session's idle lifetime. */
export function setSessionCookie(c: Context, secret: string): void {
  setCookie(c, SESSION_COOKIE, secret, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: overTls(c),
    path: '/',
    maxAge: Math.floor(SESSION_IDLE_MS / 1000),
  });
}

export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'Strict', secure: overTls(c) });
}

/** The session answer: who, with what role and permissions, and the CSRF token of a cookie session. */
export async function sessionView(
  deps: AppDeps,
  actor: Actor,
  secret: string | undefined,
  expiresAt: number | null,
): Promise<SessionView> {
  const role = roleOfActor(actor);
  const user = actor.userId ? await deps.identity.user(actor.userId) : undefined;
  return {
    actor: { kind: actor.kind === 'user' ? 'user' : 'token', id: actor.id, name: actor.name },
    user: user ? userView(user) : null,
    role,
    permissions: [...ROLE_PERMISSIONS[role]],
    csrfToken: secret ? deps.identity.csrfToken(secret) : null,
    expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
  };
}

/** The answer to a sign-in (login or setup): the cookie set, the session described. */
export function signedIn(c: Context, deps: AppDeps, made: NewSession): Promise<SessionView> {
  setSessionCookie(c, made.secret);
  const actor: Actor = {
    kind: 'user',
    id: made.user.id,
    name: made.user.email,
    role: userView(made.user).role,
    userId: made.user.id,
    sessionId: made.session.id,
  };
  return sessionView(deps, actor, made.secret, made.session.expiresAt);
}
