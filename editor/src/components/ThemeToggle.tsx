import { nextChoice, setThemeChoice, useTheme } from '../lib/theme';

const LABEL = { system: 'Theme: as the system', light: 'Theme: light', dark: 'Theme: dark' } as const;
const GLYPH = { system: '◐', light: '☀', dark: '☾' } as const;

/** One button in the header: follow the system's light or dark setting, or force one. */
export function ThemeToggle() {
  const { choice, theme } = useTheme();
  return (
    <button
      type="button"
      className="header-link header-icon"
      data-testid="theme-toggle"
      data-choice={choice}
      title={`${LABEL[choice]}${choice === 'system' ? ` (${theme} now)` : ''}. Click to change.`}
      aria-label={`${LABEL[choice]}. Change the theme`}
      onClick={() => setThemeChoice(nextChoice(choice))}
    >
      <span aria-hidden="true">{GLYPH[choice]}</span>
    </button>
  );
}
