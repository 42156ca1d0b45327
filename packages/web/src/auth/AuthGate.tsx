import './auth.css';
import {
  createContext,
  type FormEvent,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useState,
} from 'react';
import { ApiError } from '../api/http.js';
import { Field, fieldAria } from '../components/Field.js';
import {
  OIDC_LOGIN_URL,
  signIn,
  signInMethods,
  signOut,
  UNAUTHENTICATED_EVENT,
  whoami,
  type WhoAmI,
} from './session.js';

interface AuthState {
  who: WhoAmI | null;
  signOut: () => void;
}

const AuthContext = createContext<AuthState>({ who: null, signOut: () => undefined });

/** Who is signed in (null before the server answered), and how to sign out. */
export const useAuth = () => useContext(AuthContext);

/**
 * Asks the server who the UI is; shows the sign-in page when it answers 401 (or any later request
 * does), the app otherwise.
 */
export function AuthGate({ children }: { children: ReactNode }) {
  const [who, setWho] = useState<WhoAmI | null>(null);
  const [needsSignIn, setNeedsSignIn] = useState(false);
  const load = useCallback(() => {
    whoami()
      .then((w) => {
        setWho(w);
        setNeedsSignIn(false);
      })
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 401) setNeedsSignIn(true);
      });
  }, []);
  useEffect(() => {
    load();
    const onUnauthenticated = () => setNeedsSignIn(true);
    window.addEventListener(UNAUTHENTICATED_EVENT, onUnauthenticated);
    return () => window.removeEventListener(UNAUTHENTICATED_EVENT, onUnauthenticated);
  }, [load]);
  const out = useCallback(() => {
    void signOut().finally(() => {
      setWho(null);
      setNeedsSignIn(true);
    });
  }, []);
  if (needsSignIn) return <SignInPage onSignedIn={load} />;
  return <AuthContext.Provider value={{ who, signOut: out }}>{children}</AuthContext.Provider>;
}

/** Paste an API token (or an OIDC JWT): the server keeps it in an HttpOnly cookie. */
function SignInPage({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [oidc, setOidc] = useState(false);
  useEffect(() => {
    signInMethods()
      .then((m) => setOidc(m.oidc_login))
      .catch(() => undefined);
  }, []);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    signIn(token.trim())
      .then(() => onSignedIn())
      .catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)))
      .finally(() => setBusy(false));
  };
  return (
    <main id="main" className="sign-in">
      <form className="card" onSubmit={submit} aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Galley</h1>
        <p className="muted">
          Paste an API token (<code>galley token create</code>) or a token of your identity provider.
        </p>
        <Field id="sign-in-token" label="Token" error={error}>
          <input
            {...fieldAria('sign-in-token', error)}
            className="input"
            type="password"
            autoComplete="off"
            required
            value={token}
            onChange={(e) => setToken(e.target.value)}
          />
        </Field>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy || token.trim() === ''}>
            Sign in
          </button>
          {oidc ? (
            <a className="btn" href={OIDC_LOGIN_URL}>
              Sign in with your identity provider
            </a>
          ) : null}
        </div>
      </form>
    </main>
  );
}

/** The header's part: who is signed in and a sign-out button, or that the server has no auth. */
export function UserMenu() {
  const { who, signOut: out } = useAuth();
  if (!who) return null;
  if (who.mode === 'none')
    return (
      <span className="badge badge-warning" title="Anyone who can reach this server may do anything">
        auth: none (loopback only)
      </span>
    );
  return (
    <span className="user-menu">
      <span className="muted" title={who.groups.length ? `groups: ${who.groups.join(', ')}` : 'no groups'}>
        {who.subject}
      </span>
      <button type="button" className="btn btn-ghost btn-sm" onClick={out}>
        Sign out
      </button>
    </span>
  );
}
