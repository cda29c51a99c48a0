import type { RecordError } from '@sluice/shared';
import { Cancelled, sleep } from '../clock.js';
import {
  AuthRefused,
  type ConnectionAuth,
  HttpFailure,
  type HttpRequest,
  type HttpResponse,
  type Permit,
  type RequestOrigin,
} from '../ports.js';
import { backoffMs, isRetryableStatus, type RetryPolicy, retryAfterMs } from '../retry.js';
import type { NodeContext, SystemAccess } from '../runtime.js';

/** What calling another system needs of a node's context. */
export type CallerContext = NodeContext & SystemAccess;

export interface Target {
  url: string;
  headers: Record<string, string>;
  /**
   * Which circuit breaker guards the requests: the connection, else the URL's origin. A connection's
   * limits are looked up by it too (an origin names no connection, so it has none).
   */
  breakerKey: string;
}

/** Joins the node's URL onto its connection, with the connection's auth headers. */
export function resolveTarget(ctx: CallerContext, params: { connection?: string; url: string }): Target {
  if (!params.connection) return { url: params.url, headers: {}, breakerKey: originOf(params.url) };
  const connection = ctx.connectors.connection(params.connection);
  if (!connection) throw new Error(`node "${ctx.node.id}": no connection named "${params.connection}"`);
  const breakerKey = connection.name;
  if (/^https?:\/\//i.test(params.url)) return { url: params.url, headers: { ...connection.headers }, breakerKey };
  const base = connection.baseUrl.replace(/\/+$/, '');
  const path = params.url.startsWith('/') ? params.url : `/${params.url}`;
  return { url: `${base}${path}`, headers: { ...connection.headers }, breakerKey };
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

export type CallResult =
  | { ok: true; response: HttpResponse; attempts: number }
  | { ok: false; error: RecordError; attempts: number };

/**
 * Sends a request with the node's retry policy and the connection's circuit breaker. Network errors,
 * timeouts, 408, 429 and 5xx are tried again after an exponential, jittered wait (or what
 * `Retry-After` asks for on 429 and 503); other statuses are final. While the breaker is open the
 * request waits instead of failing; network errors, timeouts and 5xx count against the breaker. A
 * request the outbound guard refuses (`HttpFailure` code `refused`) fails at once, uncounted.
 * A 401 or 403 opens the breaker at once (the credentials are refused: every other request would be
 * too), and the request waits for it like the others, without spending an attempt; once the
 * cooldown has passed it is sent again, with the connection's current credentials. Each attempt
 * takes a permit of the connection's limits once the breaker lets it through (so no place is held
 * while the breaker is open) and gives it back when the answer or the failure is in. A connection
 * that obtains its tokens (OAuth2) renews a token answered with 401 once before any of this counts it.
 */
export async function callWithRetry(
  ctx: CallerContext,
  request: HttpRequest,
  policy: RetryPolicy,
  breakerKey: string,
): Promise<CallResult> {
  const breaker = ctx.breaker(breakerKey);
  const auth = ctx.connectors.connection(breakerKey)?.auth;
  let attempt = 0;
  let refused = false;
  // a connection that learns its pace: answers that say "slower" cost no attempt, up to a bound
  const adaptive = ctx.connectors.connection(breakerKey)?.limits?.adaptive === true;
  let throttled = 0;
  // how many times the request has gone out (every attempt, and the sends no attempt counts)
  let sent = 0;
  for (;;) {
    attempt++;
    let waited = false;
    const probe = await breaker.acquire(ctx.signal, (until) => {
      waited = true;
      ctx.waiting({ kind: 'breaker', until: until ?? ctx.clock.now(), connection: breakerKey });
    });
    if (waited) ctx.waiting(null);
    if (ctx.signal.aborted) {
      if (probe) breaker.abandon();
      throw new Cancelled();
    }
    let wait: number | undefined;
    let error: RecordError;
    // after a refusal, the connection's credentials may have been renewed meanwhile
    const headers = refused
      ? { ...request.headers, ...ctx.connectors.connection(breakerKey)?.headers }
      : request.headers;
    try {
      const response = await sendOnce(ctx, { ...request, headers }, breakerKey, auth, () => sent++);
      refused = isRefusal(response.status);
      if (refused) breaker.trip();
      else breaker.report(response.status < 500);
      if (response.status >= 200 && response.status < 300) return { ok: true, response, attempts: attempt };
      error = errorFromResponse(response);
      // refused credentials are the connection's failure, not the record's: it waits for the breaker
      if (refused && breaker.state !== 'closed') {
        attempt--;
        continue;
      }
      if (!isRetryableStatus(response.status)) return { ok: false, error, attempts: attempt };
      if (response.status === 429 || response.status === 503) {
        // the pace has learnt from the answer (its permit): the request goes again at the new pace
        if (adaptive && throttled < MAX_THROTTLED && breaker.state === 'closed') {
          throttled++;
          attempt--;
          continue;
        }
        wait = retryAfterMs(header(response, 'retry-after'), ctx.clock.now());
      }
    } catch (err) {
      // no permit (the run stopped while it waited): nothing was sent
      if (err instanceof PermitAborted) {
        if (probe) breaker.abandon();
        throw err.cause;
      }
      if (err instanceof Cancelled || ctx.signal.aborted) {
        if (probe) breaker.abandon();
        throw new Cancelled();
      }
      const failure = err instanceof HttpFailure ? err : new HttpFailure((err as Error).message, 'network');
      // the outbound guard would not send it: nothing reached the system, and no attempt would differ
      if (failure.code === 'refused') {
        if (probe) breaker.abandon();
        return { ok: false, error: { message: failure.message, code: failure.code }, attempts: attempt };
      }
      breaker.report(false);
      error = { message: failure.message, code: failure.code };
    }
    // A failure that opened the breaker (or a failed probe) is the system's, not the record's: the
    // record waits for the breaker instead of spending its attempts against a system that is down.
    if (breaker.state !== 'closed') attempt--;
    if (attempt >= policy.maxAttempts) {
      const message = `${error.message} (gave up after ${attempt} attempt${attempt === 1 ? '' : 's'})`;
      return { ok: false, error: { ...error, message }, attempts: attempt };
    }
    const ms = wait ?? backoffMs(policy, attempt, ctx.random);
    if (ms >= 1000) ctx.waiting({ kind: 'retry', until: ctx.clock.now() + ms });
    try {
      await sleep(ctx.clock, ms, ctx.signal);
    } finally {
      if (ms >= 1000) ctx.waiting(null);
    }
  }
}

/**
 * How many 429 / 503 answers a request on a connection with adaptive pacing may get without spending
 * an attempt: the pace slows down at each, so a request throttled this often is not being paced.
 */
export const MAX_THROTTLED = 20;

/** A permit could not be had (the run stopped while it waited): nothing was sent. */
class PermitAborted extends Error {
  constructor(override readonly cause: unknown) {
    super('permit not given');
  }
}

/**
 * Sends one request within the connection's limits, with the credentials it obtains (OAuth2) added.
 * A 401 to an obtained token renews it once and sends again at once: a token that expired early is
 * the token's fault, not the system's, so neither the breaker nor the record's attempts count it. A
 * token endpoint that refuses the credentials answers as the system would (401), so the breaker
 * opens and the records wait, as for a stored token that is refused.
 */
async function sendOnce(
  ctx: CallerContext,
  request: HttpRequest,
  breakerKey: string,
  auth: ConnectionAuth | undefined,
  /** Counts a send; answers how many went before it. */
  sending: () => number,
): Promise<HttpResponse> {
  for (let renewed = false; ; renewed = true) {
    let obtained: Record<string, string> | undefined;
    if (auth) {
      try {
        obtained = await auth.headers(ctx.signal);
      } catch (err) {
        if (!(err instanceof AuthRefused)) throw err;
        const body = JSON.stringify({ error: { message: err.message } });
        return { status: 401, headers: {}, body };
      }
    }
    // the connection's limits count the request from the moment it is sent until its answer is in
    let permit: Permit;
    try {
      permit = await ctx.permit(breakerKey);
    } catch (err) {
      throw new PermitAborted(err);
    }
    let response: HttpResponse | undefined;
    const sent = ctx.clock.now();
    try {
      const headers = obtained ? { ...request.headers, ...obtained } : request.headers;
      response = await ctx.connectors.http({
        ...request,
        headers,
        signal: ctx.signal,
        connection: breakerKey,
        origin: requestOrigin(ctx, request, sending()),
      });
    } finally {
      // what the answer says (its status, rate-limit headers, how long it took) feeds an adaptive pace
      permit.release(
        response
          ? { status: response.status, headers: response.headers, ms: ctx.clock.now() - sent }
          : { ms: ctx.clock.now() - sent },
      );
    }
    if (response.status !== 401 || !auth || !obtained || renewed) return response;
    auth.invalidate(obtained);
  }
}

/** Where a request comes from, with how many times it went out before. */
function requestOrigin(ctx: CallerContext, request: HttpRequest, resends: number): RequestOrigin {
  const origin = request.origin ?? { runId: ctx.runId, nodeId: ctx.node.id };
  return resends > 0 ? { ...origin, resends } : origin;
}

/** An answer that refuses the connection's credentials. */
function isRefusal(status: number): boolean {
  return status === 401 || status === 403;
}

function header(response: HttpResponse, name: string): string | undefined {
  const found = Object.entries(response.headers).find(([k]) => k.toLowerCase() === name);
  return found?.[1];
}

/** Turns an error answer into a record error, using the body's message when it has one. */
export function errorFromResponse(response: HttpResponse): RecordError {
  let message = response.body.slice(0, 500);
  try {
    const body = JSON.parse(response.body) as { error?: { message?: string } | string; message?: string };
    const found = typeof body.error === 'string' ? body.error : (body.error?.message ?? body.message);
    if (found) message = found;
  } catch {
    // not JSON: keep the text
  }
  return {
    message: `HTTP ${response.status}: ${message || 'no body'}`,
    code: `http_${response.status}`,
    httpStatus: response.status,
  };
}
