/**
 * The editor's side of the API: the typed client (made by the app with the user's token, given to
 * components through ApiContext) and how its errors read on screen. Every call goes through the
 * client, whose inputs and answers are typed by the contract in @sluice/shared.
 */
import { type ApiClient, ApiClientError, CLIENT_ERROR_CODES } from '@sluice/shared';
import { createContext, useContext } from 'react';

export { ApiClientError };

/** The API client of the signed-in app; null outside it. */
export const ApiContext = createContext<ApiClient | null>(null);

/** The API client the app made with the user's token. */
export function useApi(): ApiClient {
  const client = useContext(ApiContext);
  if (!client) throw new Error('useApi: no API client (the component is not inside ApiContext)');
  return client;
}

/** A message for anything a call can throw. */
export function describeError(error: unknown): string {
  if (error instanceof ApiClientError) {
    if (error.code === CLIENT_ERROR_CODES.network) return 'Cannot reach the Sluice server. Is it running?';
    const head =
      error.path && !error.message.includes(`${error.path}:`) ? `${error.message} (at ${error.path})` : error.message;
    const errors = error.problems.filter((p) => p.severity === 'error' && !head.includes(p.message));
    const listed = errors.slice(0, 5).map((p) => `• ${p.message}`);
    if (errors.length > 5) listed.push(`• and ${errors.length - 5} more`);
    return [head, ...listed].join('\n');
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
