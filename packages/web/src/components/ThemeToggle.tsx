import { useEffect, useState } from 'react';
import {
  applyTheme,
  onSystemThemeChange,
  resolveTheme,
  storeThemeChoice,
  storedThemeChoice,
  type ThemeChoice,
} from '../app/theme.js';

/**
 * Switches between light and dark. Until the user picks one, the theme follows the system's
 * prefers-color-scheme (and keeps following it when it changes).
 */
export function ThemeToggle() {
  const [choice, setChoice] = useState<ThemeChoice>(storedThemeChoice);
  const [theme, setTheme] = useState(() => resolveTheme(choice));

  useEffect(() => {
    const update = () => {
      const next = resolveTheme(choice);
      setTheme(next);
      applyTheme(next);
    };
    update();
    return choice === 'system' ? onSystemThemeChange(update) : undefined;
  }, [choice]);

  const next = theme === 'dark' ? 'light' : 'dark';
  return (
    <button
      type="button"
      className="btn btn-ghost icon-btn"
      aria-label={`Switch to ${next} theme`}
      title={`Switch to ${next} theme`}
      data-theme-current={theme}
      onClick={() => {
        storeThemeChoice(next);
        setChoice(next);
      }}
    >
      <span aria-hidden="true">{theme === 'dark' ? '☀' : '☾'}</span>
    </button>
  );
}
