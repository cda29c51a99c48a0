import { type Connectors, type HttpClient, HttpFailure, type ResolvedConnection } from '@sluice/engine';

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

/** Connectors over a fixed list of connections. */
export function createConnectors(
  connections: readonly ResolvedConnection[],
  http: HttpClient = fetchHttpClient,
): Connectors {
  const byName = new Map(connections.map((c) => [c.name, c]));
  return { http, connection: (name) => byName.get(name) };
}
