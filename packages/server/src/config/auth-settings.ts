import { isAbsolute, resolve } from 'node:path';
import type { AuthFlags } from './auth-options.js';

/** How requests are authenticated. */
export type AuthMode = 'none' | 'token' | 'oidc';

/** OIDC/JWT bearer tokens: who issues them and which claims name the principal. */
export interface OidcSettings {
  issuer: string;
  audience: string;
  /** null = the issuer's discovery document's `jwks_uri`. */
  jwksUrl: string | null;
  subjectClaim: string;
  groupsClaim: string;
  /** The UI's client id for the code flow with PKCE; null = no sign-in through the issuer. */
  clientId: string | null;
}

/** Authentication, authorization, browser safety and limits (README "Authentication and authorization"). */
export interface AuthSettings {
  mode: AuthMode;
  /** Absolute path of a file holding a token accepted as the admin `bootstrap`; null = none. */
  bootstrapTokenFile: string | null;
  /** Set with `mode: 'oidc'`. */
  oidc: OidcSettings | null;
  /** Absolute path of the JSON policy; null = the default policy. */
  policyFile: string | null;
  /** Host names (lower case, without port) the Host header may carry, besides the loopback names. */
  allowedHosts: string[];
  /** Origins allowed to call the API cross-origin (CORS); empty = CORS off. */
  corsOrigins: string[];
  /** 0 = no limit. */
  rateLimitPerMinute: number;
  streamMaxPerToken: number;
}

/** The loopback names: always allowed in the Host header. */
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'] as const;

/** Whether a listen host is a loopback address (then `--auth none` is allowed). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

const list = (value: string | null): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** An origin as browsers send it (`https://ui.example.com:8443`), or null when `value` is none. */
function originOf(value: string): string | null {
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === value.replace(/\/$/, '')
      ? u.origin
      : null;
  } catch {
    return null;
  }
}

/**
 * The auth settings from the flat config; each problem (an OIDC mode without issuer or audience, an
 * origin that is not one) is pushed to `problems` naming the setting.
 */
export function resolveAuthSettings(f: AuthFlags, problems: string[], cwd = process.cwd()): AuthSettings {
  const mode = (f.auth === 'token' || f.auth === 'oidc' ? f.auth : 'none') as AuthMode;
  let oidc: OidcSettings | null = null;
  if (mode === 'oidc') {
    if (!f.authOidcIssuer) problems.push('authOidcIssuer (--auth-oidc-issuer): required with --auth oidc');
    if (!f.authOidcAudience)
      problems.push('authOidcAudience (--auth-oidc-audience): required with --auth oidc');
    oidc = {
      issuer: f.authOidcIssuer ?? '',
      audience: f.authOidcAudience ?? '',
      jwksUrl: f.authOidcJwksUrl,
      subjectClaim: f.authOidcSubjectClaim,
      groupsClaim: f.authOidcGroupsClaim,
      clientId: f.authOidcClientId,
    };
  }
  const corsOrigins = list(f.corsOrigins).map((o) => {
    const origin = originOf(o);
    if (!origin)
      problems.push(`corsOrigins (--cors-origins): "${o}" is not an origin like https://ui.example.com`);
    return origin ?? o;
  });
  const path = (p: string | null) => (p === null ? null : isAbsolute(p) ? p : resolve(cwd, p));
  return {
    mode,
    bootstrapTokenFile: path(f.authBootstrapTokenFile),
    oidc,
    policyFile: path(f.authPolicyFile),
    allowedHosts: list(f.allowedHosts).map((h) => h.toLowerCase()),
    corsOrigins,
    rateLimitPerMinute: f.rateLimitPerMinute,
    streamMaxPerToken: f.streamMaxPerToken,
  };
}

/**
 * Why the server must not start with these settings: `--auth none` off loopback (anyone who can
 * reach the port could run any command as the server's user).
 */
export function authStartProblems(listenHost: string, auth: AuthSettings): string[] {
  if (auth.mode !== 'none' || isLoopbackHost(listenHost)) return [];
  return [
    `auth (--auth): "none" is allowed only when listening on loopback, and --listen is on ${listenHost}; ` +
      'give --auth token (with --auth-bootstrap-token-file) or --auth oidc, or listen on 127.0.0.1',
  ];
}
