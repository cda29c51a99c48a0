import type { ConnectionCheck, Connectors, HttpRequest, HttpResponse, ResolvedConnection } from '../ports.js';

export type Handler = (request: HttpRequest, body: unknown) => HttpResponse | Promise<HttpResponse>;

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

export interface FakeConnectorsOptions {
  /**
   * The connections' status check (`Connectors.check`): a function answering for a connection by
   * name. Absent: the connectors have no check, so runs start without one.
   */
  check?: (name: string) => ConnectionCheck | Promise<ConnectionCheck>;
}

/**
 * Connectors whose HTTP client is a function, for engine unit tests that must not depend on a
 * network. (Tests across packages use the real sandbox systems over loopback instead.)
 */
export function fakeConnectors(
  handler: Handler,
  connections: Record<string, ResolvedConnection> = {},
  options: FakeConnectorsOptions = {},
): Connectors & { requests: HttpRequest[]; checks: string[] } {
  const requests: HttpRequest[] = [];
  const checks: string[] = [];
  const { check } = options;
  return {
    requests,
    checks,
    http: async (request) => {
      requests.push(request);
      const body = request.body ? JSON.parse(request.body) : undefined;
      return handler(request, body);
    },
    connection: (name) => connections[name],
    ...(check
      ? {
          check: async (name: string) => {
            checks.push(name);
            return check(name);
          },
        }
      : {}),
  };
}
