import { HTTP_STATUS, lesserRole, type Role, roleAllows } from '@sluice/shared';
import type { Context } from 'hono';
import { type Actor, actorOf, roleOfActor } from '../auth/actor.js';
import { userView } from '../auth/identity.js';
import { clearSessionCookie, requestMeta, sessionOf, sessionView, signedIn } from './authentication.js';
import type { AppDeps } from './deps.js';
import { ApiError } from './errors.js';
import type { ApiRouter } from './spec.js';

/** The actor of a request past authentication (every route registered here but login and setup has one). */
function actor(c: Context): Actor {
  const a = actorOf(c);
  if (!a) throw new ApiError(HTTP_STATUS.UNAUTHORIZED, 'unauthorized', 'Authorization: sign in or send a token');
  return a;
}

const isAdmin = (a: Actor) => roleOfActor(a) === 'admin';

/**
 * Signing in takes JSON only: a page elsewhere can post a form (text/plain can be made to look like
 * JSON) without asking, but not a JSON request, so nobody can be signed in as someone else unawares.
 */
function requireJson(c: Context): void {
  if (!/^application\/json\s*(;|$)/i.test(c.req.header('content-type') ?? '')) {
    throw new ApiError(
      HTTP_STATUS.UNSUPPORTED_MEDIA_TYPE,
      'unsupported_media_type',
      'Content-Type: send the body as application/json',
      'Content-Type',
    );
  }
}

/** Signing in and out, the caller's own session and password, users (admins), API tokens. */
export function registerAuthRoutes(api: ApiRouter, deps: AppDeps): void {
  const { identity } = deps;

  api.add('login', async (c, { body }) => {
    requireJson(c);
    const result = await identity.login(body.email, body.password, requestMeta(c));
    if (result.ok) return signedIn(c, deps, result);
    if (result.reason === 'throttled') {
      const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
      c.header('Retry-After', String(seconds));
      throw new ApiError(
        HTTP_STATUS.TOO_MANY_REQUESTS,
        'too_many_attempts',
        `too many failed sign-ins for this account or from this address: try again in ${seconds} s`,
      );
    }
    throw new ApiError(HTTP_STATUS.UNAUTHORIZED, 'unauthorized', 'password: wrong e-mail or password', 'password');
  });

  api.add('setup', async (c, { body }) => {
    requireJson(c);
    const made = await identity.setup(body.token, body, requestMeta(c));
    if (!made) {
      throw new ApiError(
        HTTP_STATUS.FORBIDDEN,
        'forbidden',
        'token: not the setup token this server printed, or the first admin exists already',
        'token',
      );
    }
    return signedIn(c, deps, made);
  });

  api.add('getSession', async (c) => {
    const a = actor(c);
    const session = sessionOf(c);
    let expiresAt: number | null = session?.expiresAt ?? null;
    if (!session && a.kind === 'token' && a.id !== 'env') {
      const info = await deps.tokens.get(Number(a.id));
      expiresAt = info?.expiresAt ? Date.parse(info.expiresAt) : null;
    }
    return sessionView(deps, a, session?.secret, expiresAt);
  });

  api.add('logout', async (c) => {
    const a = actor(c);
    if (a.sessionId) await identity.logout(a.sessionId);
    clearSessionCookie(c);
    return undefined;
  });

  api.add('changePassword', async (c, { body }) => {
    const a = actor(c);
    if (!a.userId) {
      throw new ApiError(HTTP_STATUS.CONFLICT, 'not_a_user', 'a service token has no password to change');
    }
    await identity.changePassword(a.userId, body.currentPassword, body.newPassword, a.sessionId);
    return undefined;
  });

  api.add('listSessions', async (c) => {
    const a = actor(c);
    return { items: a.userId ? await identity.sessions(a.userId, a.sessionId) : [] };
  });

  api.add('revokeSession', async (c, { params }) => {
    const a = actor(c);
    if (!a.userId || !(await identity.revokeSession(a.userId, params.id))) {
      throw new ApiError(HTTP_STATUS.NOT_FOUND, 'not_found', `id: you have no session ${params.id}`, 'id');
    }
    if (params.id === a.sessionId) clearSessionCookie(c);
    return undefined;
  });

  api.add('listUsers', async () => ({ items: await identity.listUsers() }));
  api.add('createUser', async (_c, { body }) => userView(await identity.createUser(body)));
  api.add('updateUser', async (_c, { params, body }) => userView(await identity.updateUser(params.id, body)));
  api.add('deleteUser', async (_c, { params }) => {
    await identity.deleteUser(params.id);
    return undefined;
  });

  // API tokens: everyone sees and revokes their own; admins every token, and make service tokens
  api.add('listTokens', async (c) => {
    const a = actor(c);
    if (isAdmin(a)) return { items: await deps.tokens.list() };
    return { items: a.userId ? await deps.tokens.list(a.userId) : [] };
  });

  api.add('createToken', async (c, { body }) => {
    const a = actor(c);
    const mine = roleOfActor(a);
    const forbidden = (what: string) =>
      new ApiError(
        HTTP_STATUS.FORBIDDEN,
        'forbidden',
        `${what}: only an admin may do that`,
        undefined,
        undefined,
        'users.manage',
      );
    const expiry = body.expiresInDays === undefined ? {} : { expiresInDays: body.expiresInDays };
    if (body.service || (!body.userId && !a.userId)) {
      // a service token: made by an admin, or by a service token for no more than its own role
      if (body.service && !isAdmin(a)) throw forbidden('service');
      const role: Role = body.role ?? mine;
      if (!roleAllows(mine, 'users.manage') && lesserRole(role, mine) !== role) {
        throw new ApiError(HTTP_STATUS.BAD_REQUEST, 'bad_request', `role: above your own role (${mine})`, 'role');
      }
      return deps.tokens.create(body.name, { role, ...expiry });
    }
    const ownerId = body.userId ?? a.userId;
    if (ownerId !== a.userId && !isAdmin(a)) throw forbidden('userId');
    const owner = ownerId ? await identity.user(ownerId) : undefined;
    if (!owner) throw new ApiError(HTTP_STATUS.NOT_FOUND, 'not_found', `userId: no user ${ownerId}`, 'userId');
    const ownerRole = userView(owner).role;
    const role: Role = body.role ?? ownerRole;
    if (lesserRole(role, ownerRole) !== role) {
      throw new ApiError(
        HTTP_STATUS.BAD_REQUEST,
        'bad_request',
        `role: a token of ${owner.email} acts with at most their role (${ownerRole})`,
        'role',
      );
    }
    return deps.tokens.create(body.name, { userId: owner.id, role, ...expiry });
  });

  api.add('revokeToken', async (c, { params }) => {
    const a = actor(c);
    const info = await deps.tokens.get(params.id);
    const allowed = info && (isAdmin(a) || (a.userId !== undefined && info.userId === a.userId));
    if (!allowed || !(await deps.tokens.revoke(params.id))) {
      throw new ApiError(HTTP_STATUS.NOT_FOUND, 'not_found', `token ${params.id} does not exist`);
    }
    return undefined;
  });
}
