import { requestJson, UNAUTHENTICATED_EVENT } from '../api/http.js';

export { UNAUTHENTICATED_EVENT };

/** Who the server takes the UI for (`GET /api/v1/auth/whoami`). */
export interface WhoAmI {
  mode: 'none' | 'token' | 'oidc';
  subject: string;
  groups: string[];
  via: string;
}

export const whoami = (signal?: AbortSignal) =>
  requestJson<WhoAmI>('GET', '/api/v1/auth/whoami', signal ? { signal } : {});

/** Signs in with an API token or JWT: the server sets an HttpOnly session cookie and a CSRF cookie. */
export const signIn = (token: string) =>
  requestJson<WhoAmI>('POST', '/api/v1/auth/session', { body: { token } });

/** Signs out: the server clears the session cookies. */
export const signOut = () => requestJson<void>('DELETE', '/api/v1/auth/session');

/** How the server lets the UI sign in (public): its auth mode and whether the issuer sign-in is offered. */
export const signInMethods = () =>
  requestJson<{ mode: string; oidc_login: boolean }>('GET', '/api/v1/auth/methods');

/** Where the browser goes to sign in through the OIDC issuer (code flow with PKCE, server side). */
export const OIDC_LOGIN_URL = '/api/v1/auth/oidc/login';
