import { useSyncExternalStore } from 'react';

/** What the user chose: follow the system's setting, or always one theme. */
export type ThemeChoice = 'system' | 'light' | 'dark';
export type Theme = 'light' | 'dark';

const KEY = 'sluice.theme';
const CHOICES: readonly ThemeChoice[] = ['system', 'light', 'dark'];
const listeners = new Set<() => void>();
const media = typeof window === 'undefined' ? null : window.matchMedia('(prefers-color-scheme: dark)');

function readChoice(): ThemeChoice {
  try {
    const saved = localStorage.getItem(KEY) as ThemeChoice | null;
    return saved && CHOICES.includes(saved) ? saved : 'system';
  } catch {
    return 'system';
  }
}

let choice: ThemeChoice = typeof window === 'undefined' ? 'system' : readChoice();
let snapshot = { choice, theme: resolve(choice) };

function resolve(c: ThemeChoice): Theme {
  return c === 'system' ? (media?.matches ? 'dark' : 'light') : c;
}

/** Puts the theme on the page (`data-theme` on <html>, read by the stylesheet) and tells the hooks. */
function apply(): void {
  snapshot = { choice, theme: resolve(choice) };
  if (typeof document !== 'undefined') document.documentElement.dataset.theme = snapshot.theme;
  for (const l of listeners) l();
}

media?.addEventListener('change', () => {
  if (choice === 'system') apply();
});
apply();

export function setThemeChoice(next: ThemeChoice): void {
  choice = next;
  try {
    localStorage.setItem(KEY, next);
  } catch {
    // storage may be off: the choice holds for this page only
  }
  apply();
}

/** The choice after `c` for a one-button toggle: system → dark → light → system. */
export function nextChoice(c: ThemeChoice): ThemeChoice {
  return c === 'system' ? 'dark' : c === 'dark' ? 'light' : 'system';
}

/** The theme in force and the user's choice, redrawn when either changes (the system's setting too). */
export function useTheme(): { choice: ThemeChoice; theme: Theme } {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => snapshot,
  );
}
