import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App.js';
import { applyTheme, resolveTheme, storedThemeChoice } from './app/theme.js';
import './styles/tokens.css';
import './styles/base.css';
import './styles/components.css';
import './styles/pages.css';
import './styles/log.css';

// The theme is on <html> before the first paint, so a dark-theme user never sees a light flash.
applyTheme(resolveTheme(storedThemeChoice()));

const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
