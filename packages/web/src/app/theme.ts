/** The user's theme choice; `system` follows prefers-color-scheme. */
export type ThemeChoice = 'system' | 'light' | 'dark';
export type Theme = 'light' | 'dark';

const STORAGE_KEY = 'galley.theme';
const darkQuery = () => window.matchMedia('(prefers-color-scheme: dark)');

/** The stored choice, `system` when none (or storage is unavailable). */
export function storedThemeChoice(): ThemeChoice {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    return 'system';
  }
}

/** Remembers the choice (`system` forgets it). */
export function storeThemeChoice(choice: ThemeChoice): void {
  try {
    if (choice === 'system') localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, choice);
  } catch {
    // The choice still applies to this page.
  }
}

/** The theme a choice means right now. */
export function resolveTheme(choice: ThemeChoice): Theme {
  if (choice !== 'system') return choice;
  return darkQuery().matches ? 'dark' : 'light';
}

/** Puts the theme on <html> (`data-theme`), which the tokens in styles/tokens.css key on. */
export function applyTheme(theme: Theme): void {
  document.documentElement.dataset['theme'] = theme;
}

/** Calls `listener` when the system's light/dark preference changes; answers the unsubscribe. */
export function onSystemThemeChange(listener: () => void): () => void {
  const query = darkQuery();
  query.addEventListener('change', listener);
  return () => query.removeEventListener('change', listener);
}
