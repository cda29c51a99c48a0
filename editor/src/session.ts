/**
 * Who the editor is signed in as, and what the role may do: the answer of `GET /api/session`, given to
 * components through SessionContext. Components hide what the role may not do (the API refuses it too).
 */
import type { Permission, SessionView } from '@sluice/shared';
import { createContext, useContext } from 'react';

export interface EditorSession {
  view: SessionView;
  /** Signs out (a cookie session) or forgets the kept token. */
  signOut: () => void;
}

export const SessionContext = createContext<EditorSession | null>(null);

export function useSession(): EditorSession | null {
  return useContext(SessionContext);
}

/**
 * Whether the signed-in role has a permission. Outside a session (a component rendered on its own)
 * everything is allowed: the server still decides.
 */
export function useCan(): (permission: Permission) => boolean {
  const session = useContext(SessionContext);
  return (permission) => !session || session.view.permissions.includes(permission);
}

/** Takes a setup token handed over in the address (`#setup=…`, printed on the first start). */
export function setupTokenFromUrl(location: Location = window.location): string | null {
  const match = /(?:^#|&)setup=([^&]+)/.exec(location.hash);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}
