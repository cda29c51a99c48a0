import {
  type AgentOptions,
  type ClientRequestArgs,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions, request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { type HttpClient, HttpFailure, type HttpRequest, type HttpResponse } from '@sluice/engine';
import { type Connect, guardedConnection, type OutboundGuard } from './outbound-guard.js';

/** An HTTP client that keeps connections open, and lets them go when the server stops. */
export interface PooledHttpClient {
  http: HttpClient;
  /** Pools open now (one per connection, or per origin for requests that name none). */
  readonly pools: number;
  /** Closes every pool's sockets; requests after this open new ones. */
  close(): void;
}

export interface PooledHttpOptions {
  /**
   * Which addresses requests may reach: every socket is opened only once the guard has admitted
   * the address it connects to (redirects included, each hop opening its own).
   */
  guard: OutboundGuard;
  /** Opens an admitted connection's socket instead of the agents' own TCP/TLS connect (tests). */
  connect?: Connect;
  /** Sockets one pool keeps open at most (requests beyond wait for one). Default 256. */
  maxSockets?: number;
  /** Most redirects followed for one request, as fetch does (default 20). */
  maxRedirects?: number;
}

interface Pool {
  http: HttpAgent;
  https: HttpsAgent;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers not sent on to another origin by a redirect (as fetch does). */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/**
 * Sends requests with Node's own http/https over keep-alive pools, one per connection (a request
 * names its connection; one that names none is pooled by origin), so a run's thousands of requests
 * reuse a few sockets instead of paying a connection each, and one connection's sockets never serve
 * another's requests. Behaves as `fetchHttpClient` does: redirects followed, gzip, deflate and br
 * answers decoded, network errors and timeouts as HttpFailure. Every socket opens through the
 * outbound guard, so an address it refuses (on the first request or on a redirect) fails the
 * request with an HttpFailure of code `refused` before anything is sent. A request whose kept-alive socket the
 * server had closed meanwhile is sent again once on a new socket (it never reached the server).
 */
export function createPooledHttpClient(options: PooledHttpOptions): PooledHttpClient {
  const maxSockets = options.maxSockets ?? 256;
  const maxRedirects = options.maxRedirects ?? 20;
  const pools = new Map<string, Pool>();

  const poolFor = (req: HttpRequest, url: URL): Pool => {
    const name = req.connection ?? url.origin;
    let pool = pools.get(name);
    if (!pool) {
      const agentOptions = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' as const };
      pool = {
        http: new GuardedHttpAgent(agentOptions, options.guard, options.connect),
        https: new GuardedHttpsAgent(agentOptions, options.guard, options.connect),
      };
      pools.set(name, pool);
    }
    return pool;
  };

  const http: HttpClient = async (req) => {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, req.timeoutMs);
    const onAbort = () => controller.abort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let current: HttpRequest = req;
      for (let hop = 0; ; hop++) {
        const url = new URL(current.url);
        const response = await send(current, url, poolFor(current, url), controller.signal);
        const location = response.headers.location;
        if (!REDIRECTS.has(response.status) || location === undefined || hop >= maxRedirects) return response;
        current = redirected(current, url, new URL(location, url), response.status);
      }
    } catch (err) {
      if (req.signal?.aborted) throw new HttpFailure('request aborted', 'aborted');
      if (timedOut) throw new HttpFailure(`no answer from ${hostOf(req.url)} within ${req.timeoutMs} ms`, 'timeout');
      if (err instanceof HttpFailure) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new HttpFailure(`cannot reach ${hostOf(req.url)}: ${code ?? (err as Error).message}`, 'network');
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    }
  };

  return {
    http,
    get pools() {
      return pools.size;
    },
    close() {
      for (const pool of pools.values()) {
        pool.http.destroy();
        pool.https.destroy();
      }
      pools.clear();
    },
  };
}

/** An http agent whose sockets open only to addresses the outbound guard admits. */
class GuardedHttpAgent extends HttpAgent {
  constructor(
    options: AgentOptions,
    private readonly guard: OutboundGuard,
    private readonly connect: Connect | undefined,
  ) {
    super(options);
  }

  override createConnection(
    options: ClientRequestArgs,
    callback?: (err: Error | null, socket: Duplex) => void,
  ): Duplex | null | undefined {
    const open: Connect = this.connect ?? ((o) => super.createConnection(o) as Duplex);
    guardedConnection(this.guard, options, open, callback as (err: Error | null, socket?: Duplex) => void);
    return undefined;
  }
}

/** An https agent whose sockets open only to addresses the outbound guard admits (TLS sessions still reused). */
class GuardedHttpsAgent extends HttpsAgent {
  constructor(
    options: HttpsAgentOptions,
    private readonly guard: OutboundGuard,
    private readonly connect: Connect | undefined,
  ) {
    super(options);
  }

  override createConnection(
    options: ClientRequestArgs,
    callback?: (err: Error | null, socket: Duplex) => void,
  ): Duplex | null | undefined {
    const open: Connect = this.connect ?? ((o) => super.createConnection(o) as Duplex);
    guardedConnection(this.guard, options, open, callback as (err: Error | null, socket?: Duplex) => void);
    return undefined;
  }
}

/** One request on the pool's sockets; sent once more when a kept-alive socket turns out closed. */
async function send(req: HttpRequest, url: URL, pool: Pool, signal: AbortSignal): Promise<HttpResponse> {
  try {
    return await sendOnce(req, url, pool, signal);
  } catch (err) {
    if (!(err instanceof StaleSocket)) throw err;
    return sendOnce(req, url, pool, signal);
  }
}

/** A reused socket the server had closed before the request reached it: safe to send again. */
class StaleSocket extends Error {}

function sendOnce(req: HttpRequest, url: URL, pool: Pool, signal: AbortSignal): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    const https = url.protocol === 'https:';
    if (!https && url.protocol !== 'http:') {
      reject(new HttpFailure(`cannot reach ${url.host}: ${url.protocol} is not http or https`, 'network'));
      return;
    }
    const headers: Record<string, string> = { ...req.headers };
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'accept-encoding'))
      headers['accept-encoding'] = 'gzip, deflate, br';
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
    const outgoing = (https ? httpsRequest : httpRequest)(url, {
      method: req.method,
      headers,
      agent: https ? pool.https : pool.http,
      signal,
    });
    let answered = false;
    outgoing.on('error', (err: NodeJS.ErrnoException) => {
      const stale = !answered && outgoing.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE');
      reject(stale && !signal.aborted ? new StaleSocket(err.message) : err);
    });
    outgoing.on('response', (res) => {
      answered = true;
      readBody(res).then(
        (body) => resolve({ status: res.statusCode ?? 0, headers: flatHeaders(res), body }),
        (err: unknown) => reject(err),
      );
    });
    outgoing.end(req.body);
  });
}

/** The answer's body as text, decoded when it came compressed. */
async function readBody(res: IncomingMessage): Promise<string> {
  const encoding = String(res.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : encoding === 'br'
          ? createBrotliDecompress()
          : undefined;
  const stream = decoder ? res.pipe(decoder) : res;
  if (decoder) res.on('error', (err) => decoder.destroy(err));
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Header names in lower case; a repeated header's values joined with ", " (as fetch's Headers do). */
function flatHeaders(res: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/**
 * The request a redirect asks for, as fetch makes it: 303 (and 301/302 after a POST) becomes a GET
 * without a body; credentials are not sent on to another origin.
 */
function redirected(req: HttpRequest, from: URL, to: URL, status: number): HttpRequest {
  const toGet = status === 303 ? req.method !== 'HEAD' : (status === 301 || status === 302) && req.method === 'POST';
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    const lower = name.toLowerCase();
    if (to.origin !== from.origin && CREDENTIAL_HEADERS.has(lower)) continue;
    if (toGet && (lower.startsWith('content-') || lower === 'transfer-encoding')) continue;
    headers[name] = value;
  }
  const next: HttpRequest = { ...req, url: to.href, headers, method: toGet ? 'GET' : req.method };
  if (toGet) delete next.body;
  return next;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Statuses whose answers have no body (a Response refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * A `fetch` over an HttpClient, for libraries that send their requests through a fetch they are
 * given (oauth4webapi's token requests): so those go through the pools and the outbound guard too.
 * A request the signal aborts rejects with the signal's reason (a TimeoutError for a timeout), as
 * fetch does.
 */
export function fetchOver(http: HttpClient, timeoutMs = 60_000): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const body = request.body ? await request.text() : undefined;
    try {
      const res = await http({
        method: request.method,
        url: request.url,
        headers,
        timeoutMs,
        signal: request.signal,
        ...(body !== undefined ? { body } : {}),
      });
      return new Response(NULL_BODY.has(res.status) ? null : res.body, { status: res.status, headers: res.headers });
    } catch (err) {
      if (request.signal.aborted) throw request.signal.reason ?? err;
      throw err;
    }
  };
}
