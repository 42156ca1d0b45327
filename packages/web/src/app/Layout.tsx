import { useEffect, useRef, useState } from 'react';
import { NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { LeaderChip, NoLeaderBanner, useLeadership } from '../components/LeaderStatus.js';
import { LiveIndicator } from '../components/LiveIndicator.js';
import { ShortcutsDialog } from '../components/ShortcutsDialog.js';
import { ThemeToggle } from '../components/ThemeToggle.js';
import { UserMenu } from '../auth/AuthGate.js';
import { isTypingTarget, useShortcut } from '../hooks/use-shortcut.js';

const GO_TO: Record<string, string> = { r: '/runs', t: '/tasks', p: '/pipelines', c: '/capacity' };

/** `g` then a letter navigates (within 1.5 s), like many web apps. */
function useGoToShortcuts() {
  const navigate = useNavigate();
  const pending = useRef(0);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) return;
      if (isTypingTarget(event.target) || document.querySelector('dialog[open]')) return;
      if (event.key === 'g') {
        pending.current = Date.now();
        return;
      }
      const target = GO_TO[event.key];
      if (target && Date.now() - pending.current < 1500) {
        event.preventDefault();
        navigate(target);
      }
      pending.current = 0;
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate]);
}

/** The frame of every page: skip link, header with navigation, the page, and global shortcuts. */
export function Layout() {
  const [help, setHelp] = useState(false);
  const location = useLocation();
  const mainRef = useRef<HTMLElement>(null);
  const leadership = useLeadership();
  useGoToShortcuts();
  useShortcut('?', () => setHelp(true));

  // After navigation, start keyboard focus at the page (not at the link that was clicked).
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    mainRef.current?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [location.pathname]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <div className="app-header-inner">
          <NavLink to="/runs" className="brand" aria-label="Galley home">
            <span className="brand-mark" aria-hidden="true">
              G
            </span>
            Galley
          </NavLink>
          <nav className="app-nav" aria-label="Main">
            <NavLink to="/runs">Runs</NavLink>
            <NavLink to="/tasks">Tasks</NavLink>
            <NavLink to="/pipelines">Pipelines</NavLink>
            <NavLink to="/schedules">Schedules</NavLink>
            <NavLink to="/capacity">Capacity</NavLink>
            <NavLink to="/queues">Queues</NavLink>
          </nav>
          <div className="header-tools">
            <UserMenu />
            <LeaderChip leadership={leadership} />
            <LiveIndicator />
            <button
              type="button"
              className="btn btn-ghost icon-btn"
              aria-label="Keyboard shortcuts"
              title="Keyboard shortcuts (?)"
              onClick={() => setHelp(true)}
            >
              ?
            </button>
            <ThemeToggle />
          </div>
        </div>
      </header>
      <NoLeaderBanner leadership={leadership} />
      <main id="main" ref={mainRef} tabIndex={-1} style={{ outline: 'none' }}>
        <Outlet />
      </main>
      <ShortcutsDialog open={help} onClose={() => setHelp(false)} />
    </>
  );
}
