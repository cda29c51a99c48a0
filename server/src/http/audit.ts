import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AuditLog } from '../audit/audit-log.js';
import { type Actor, actorOf } from '../auth/actor.js';
import { DomainError } from '../errors.js';
import type { Logger } from '../logger.js';
import { AUDIT_DECLARATIONS, type AuditDeclaration, type MutatingRouteName } from './audit-declarations.js';
import { ApiError } from './errors.js';
import type { ApiRouter, RouteDone } from './spec.js';

/**
 * The API's recorder (the router's `onDone`): one audit entry for each request to a route that
 * changes something, once the request has been authenticated, whatever came of it: `ok`, `refused`
 * (a 4xx, with its error code) or `failed` (a 5xx). A request without an actor (no valid token) is
 * answered 401 before any route sees it and is not recorded; the server's log has it.
 *
 * The entry is written before the answer is sent, so a client that has its answer finds the entry.
 * If it cannot be written the change stands and the failure is logged: the answer stays true.
 */
export function auditRecorder(
  audit: AuditLog,
  logger: Logger,
  trustedProxies: readonly string[] = [],
): (c: Context, done: RouteDone) => Promise<void> {
  return async (c, done) => {
    if (!(done.name in AUDIT_DECLARATIONS)) return;
    const declaration = AUDIT_DECLARATIONS[done.name as MutatingRouteName];
    if ('notAudited' in declaration) return;
    // the declarations are typed per route; here one stands for any of them
    const d = declaration as unknown as AuditDeclaration<MutatingRouteName>;
    const actor = d.signsIn ? signedIn(done) : actorOf(c);
    if (!actor) return;
    const paramId = d.param !== undefined ? done.input.params[d.param] : undefined;
    const base = {
      actor,
      address: clientAddress(peerAddress(c), c.req.header('x-forwarded-for'), trustedProxies),
      objectType: d.objectType,
      objectId: paramId === undefined ? null : String(paramId),
    };
    try {
      if (done.error === undefined) {
        const call = { params: done.input.params, body: done.input.body, answer: done.answer } as never;
        await audit.record({
          ...base,
          action: d.actionOf?.(call) ?? d.action,
          objectId: d.created?.(call) ?? base.objectId,
          summary: d.summary?.(call) ?? null,
        });
      } else {
        await audit.record({ ...base, action: d.action, ...errorOutcome(done.error) });
      }
    } catch (err) {
      logger.error({ err, route: done.name }, 'the audit entry of a request could not be written');
    }
  };
}

/** A refused request's error code, or `failed` for an unexpected error (answered 500). */
/** Who a sign-in was for: the user it signed in, or the account a refused attempt named. */
function signedIn(done: RouteDone): Actor | undefined {
  const answer = done.answer as
    | { actor?: { id: string; name: string }; user?: { id: string; email: string } | null }
    | undefined;
  if (done.error === undefined && answer?.actor) {
    return { kind: 'user', id: answer.user?.id ?? answer.actor.id, name: answer.user?.email ?? answer.actor.name };
  }
  const email = (done.input.body as { email?: unknown } | undefined)?.email;
  return { kind: 'user', id: 'unknown', name: typeof email === 'string' ? email.slice(0, 200) : 'unknown' };
}

function errorOutcome(err: unknown): { outcome: 'refused' | 'failed'; error: string } {
  if (err instanceof ApiError) return { outcome: err.status < 500 ? 'refused' : 'failed', error: err.code };
  if (err instanceof DomainError) return { outcome: 'refused', error: err.code };
  if (err instanceof HTTPException && err.status < 500) return { outcome: 'refused', error: 'http_error' };
  return { outcome: 'failed', error: 'internal' };
}

/**
 * The address the request came from: the peer of the TCP connection, unless that peer is a proxy
 * listed in `SLUICE_TRUSTED_PROXIES`: then the nearest address in `X-Forwarded-For` that is not one
 * of those proxies (each proxy appends the address it saw; addresses further left were written by the
 * client and could be anything). Without the setting the header is not read, since any client can
 * send it.
 */
export function clientAddress(
  peer: string | null,
  forwardedFor: string | undefined,
  trustedProxies: readonly string[],
): string | null {
  if (!peer || !forwardedFor || !trustedProxies.includes(plain(peer))) return peer && plain(peer);
  const hops = forwardedFor
    .split(',')
    .map((h) => plain(h.trim()))
    .filter(Boolean);
  let address = plain(peer);
  while (trustedProxies.includes(address) && hops.length) address = hops.pop() as string;
  return address.slice(0, 100);
}

/** An IPv4 address as dual-stack sockets give it (`::ffff:10.0.0.1`) without the prefix. */
const plain = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');

function peerAddress(c: Context): string | null {
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    // a request made in process (tests' app.request) has no connection
    return null;
  }
}

/** `GET /api/audit`: the audit log, filtered and paged. There is no route that changes or removes an entry. */
export function registerAuditRoutes(api: ApiRouter, audit: AuditLog): void {
  api.add('listAudit', (_c, { query }) => audit.list(query));
}
