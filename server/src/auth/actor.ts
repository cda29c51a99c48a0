import type { Role } from '@sluice/shared';
import type { Context } from 'hono';

/**
 * Who an API request acts for. The API's authentication writes it on the request (`setActor`);
 * permission checks and the audit log read it (`actorOf`).
 */
export interface Actor {
  /**
   * `user`: a signed-in user (a session cookie); `token`: an API token (a stored one, or
   * `SLUICE_API_TOKEN`, id `env`); `cli`: the command line on the data folder; `system`: Sluice itself
   * (schedules, retention, alerts).
   */
  kind: 'user' | 'token' | 'cli' | 'system';
  /** The user's id, the token's id (`env` for `SLUICE_API_TOKEN`), or a fixed name for the command line and Sluice. */
  id: string;
  /** How the audit log shows it: the user's e-mail, or the token's name. */
  name: string;
  /** What it may do; the command line and Sluice itself, which have none, may do everything. */
  role?: Role;
  /** The user a session or token belongs to (a user's own id for `user`); none for a service token. */
  userId?: string;
  /** The session a `user` request came with (its public id). */
  sessionId?: string;
}

/** The actor of `SLUICE_API_TOKEN`, which is accepted without being stored: a service token with role admin. */
export const ENV_TOKEN_ACTOR: Actor = { kind: 'token', id: 'env', name: 'SLUICE_API_TOKEN', role: 'admin' };

/** The role an actor acts with (`cli` and `system`, which have none, act as admin). */
export function roleOfActor(actor: Actor): Role {
  return actor.role ?? 'admin';
}

const KEY = 'sluiceActor';

/** Records who the request acts for (authentication does, once it has checked the credential). */
export function setActor(c: Context, actor: Actor): void {
  c.set(KEY as never, actor as never);
}

/** Who the request acts for; undefined on a route that needs no credential. */
export function actorOf(c: Context): Actor | undefined {
  return c.get(KEY as never) as Actor | undefined;
}
