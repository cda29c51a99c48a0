import type { Connectors, HttpRequest, HttpResponse, ResolvedConnection } from '../ports.js';

export type Handler = (request: HttpRequest, body: unknown) => HttpResponse | Promise<HttpResponse>;

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/**
 * Connectors whose HTTP client is a function, for engine unit tests that must not depend on a
 * network. (Tests across packages use the real sandbox systems over loopback instead.)
 */
export function fakeConnectors(
  handler: Handler,
  connections: Record<string, ResolvedConnection> = {},
): Connectors & { requests: HttpRequest[] } {
  const requests: HttpRequest[] = [];
  return {
    requests,
    http: async (request) => {
      requests.push(request);
      const body = request.body ? JSON.parse(request.body) : undefined;
      return handler(request, body);
    },
    connection: (name) => connections[name],
  };
}
