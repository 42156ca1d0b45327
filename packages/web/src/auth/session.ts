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
