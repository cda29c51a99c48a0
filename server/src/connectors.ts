import {
  AuthRefused,
  type ConnectionCheck,
  type Connectors,
  type HttpClient,
  HttpFailure,
  type RequestOrigin,
  type ResolvedConnection,
} from '@sluice/engine';

/** Sends requests with Node's fetch, turning network errors and timeouts into HttpFailure. */
export const fetchHttpClient: HttpClient = async (req) => {
  // One controller per request, aborted by the timeout or by the run's signal (cheaper than
  // AbortSignal.any + AbortSignal.timeout, which allocate more and linger on Node 20).
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, req.timeoutMs);
  const onAbort = () => controller.abort();
  req.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const init: RequestInit = { method: req.method, headers: req.headers, signal: controller.signal };
    if (req.body !== undefined) init.body = req.body;
    const res = await fetch(req.url, init);
    const body = await res.text();
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return { status: res.status, headers, body };
  } catch (err) {
    if (req.signal?.aborted) throw new HttpFailure('request aborted', 'aborted');
    if (timedOut) throw new HttpFailure(`no answer from ${hostOf(req.url)} within ${req.timeoutMs} ms`, 'timeout');
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new HttpFailure(
      `cannot reach ${hostOf(req.url)}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
      'network',
    );
  } finally {
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', onAbort);
  }
};

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** What a status check of a connection found, with the state a connection's status shows. */
export interface CheckResult extends ConnectionCheck {
  /** ok for 2xx, unauthorized for 401/403, error otherwise or when the system cannot be reached. */
  state: 'ok' | 'unauthorized' | 'error';
}

/**
 * Calls the system as the connection (GET base URL + check path, authenticated) and says how it
 * answered. A run's check names its `origin` (for the request's trace span).
 */
export async function checkConnection(
  http: HttpClient,
  connection: ResolvedConnection,
  checkPath: string | null | undefined = connection.checkPath,
  signal?: AbortSignal,
  origin?: RequestOrigin,
): Promise<CheckResult> {
  const url = joinUrl(connection.baseUrl, checkPath ?? '');
  const { auth } = connection;
  try {
    // a connection that obtains its tokens (OAuth2) gets one first, and a new one if the system refuses it
    for (let renewed = false; ; renewed = true) {
      let obtained: Record<string, string> = {};
      if (auth) {
        try {
          obtained = await auth.headers(signal);
        } catch (err) {
          if (!(err instanceof AuthRefused)) throw err;
          return { ok: false, state: 'unauthorized', status: 401, message: err.message, reason: err.message };
        }
      }
      const res = await http({
        method: 'GET',
        url,
        headers: { ...connection.headers, ...obtained, accept: 'application/json' },
        timeoutMs: 10_000,
        connection: connection.name,
        ...(signal ? { signal } : {}),
        ...(origin ? { origin } : {}),
      });
      if (res.status === 401 && auth && !renewed) {
        auth.invalidate(obtained);
        continue;
      }
      const state = res.status < 300 ? 'ok' : res.status === 401 || res.status === 403 ? 'unauthorized' : 'error';
      return { ok: state === 'ok', state, status: res.status, message: `HTTP ${res.status} from GET ${url}` };
    }
  } catch (err) {
    // the outbound guard's refusal says so, for a run's check to fail the run at once
    const refused = err instanceof HttpFailure && err.code === 'refused';
    return { ok: false, state: 'error', message: (err as Error).message, ...(refused ? { refused } : {}) };
  }
}

function joinUrl(base: string, path: string): string {
  if (!path) return base;
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** Connectors over a fixed list of connections, each checked at its `checkPath` before a run. */
export function createConnectors(
  connections: readonly ResolvedConnection[],
  http: HttpClient = fetchHttpClient,
  files?: import('@sluice/engine').FilePort,
): Connectors {
  const byName = new Map(connections.map((c) => [c.name, c]));
  return {
    http,
    ...(files ? { files } : {}),
    connection: (name) => byName.get(name),
    check: async (name, signal, origin) => {
      const connection = byName.get(name);
      if (!connection) return { ok: false, message: `no connection named "${name}"` };
      const { state: _, ...result } = await checkConnection(http, connection, connection.checkPath, signal, origin);
      return result;
    },
  };
}
