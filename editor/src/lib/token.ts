const KEY = 'sluice.apiToken';

/** The API token this browser keeps (asked for once), if any. */
export function getToken(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string): void {
  localStorage.setItem(KEY, token.trim());
}

export function clearToken(): void {
  localStorage.removeItem(KEY);
}

/**
 * Takes a token handed over in the address (`#token=…`, as the server prints on its first start),
 * keeps it and removes it from the address bar and history.
 */
export function adoptTokenFromUrl(location: Location = window.location, history: History = window.history): void {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match?.[1]) return;
  setToken(decodeURIComponent(match[1]));
  history.replaceState(null, '', location.pathname + location.search);
}
