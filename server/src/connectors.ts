import { type Connectors, type HttpClient, HttpFailure, type ResolvedConnection } from '@sluice/engine';

/** Sends requests with Node's fetch, turning network errors and timeouts into HttpFailure. */
export const fetchHttpClient: HttpClient = async (req) => {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  try {
    const init: RequestInit = { method: req.method, headers: req.headers, signal };
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
    if (timeout.aborted)
      throw new HttpFailure(`no answer from ${hostOf(req.url)} within ${req.timeoutMs} ms`, 'timeout');
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new HttpFailure(
      `cannot reach ${hostOf(req.url)}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
      'network',
    );
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
