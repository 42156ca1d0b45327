import type { OptionSpecOf } from './option-spec.js';

/** The authentication, authorization and browser-safety keys of the flat config. */
export interface AuthFlags {
  auth: string;
  authBootstrapTokenFile: string | null;
  authOidcIssuer: string | null;
  authOidcAudience: string | null;
  authOidcJwksUrl: string | null;
  authOidcSubjectClaim: string;
  authOidcGroupsClaim: string;
  authOidcClientId: string | null;
  authPolicyFile: string | null;
  allowedHosts: string | null;
  corsOrigins: string | null;
  rateLimitPerMinute: number;
  streamMaxPerToken: number;
}

/** The settings of packages/server/README.md's "Authentication and authorization", in its order. */
export const AUTH_OPTIONS: readonly OptionSpecOf<keyof AuthFlags>[] = [
  {
    key: 'auth',
    flag: '--auth',
    env: 'GALLEY_AUTH',
    type: 'string',
    choices: ['none', 'token', 'oidc'],
    default: () => 'none',
    description:
      '`none` (no credentials; allowed only when listening on loopback), `token` (Galley API tokens), `oidc` (API tokens and JWT bearer tokens of an OIDC issuer).',
  },
  {
    key: 'authBootstrapTokenFile',
    flag: '--auth-bootstrap-token-file',
    env: 'GALLEY_AUTH_BOOTSTRAP_TOKEN_FILE',
    type: 'string',
    default: () => null,
    description:
      'A file holding a token (at least 32 characters) accepted as the admin `bootstrap`: use it to create the first API tokens.',
  },
  {
    key: 'authOidcIssuer',
    flag: '--auth-oidc-issuer',
    env: 'GALLEY_AUTH_OIDC_ISSUER',
    type: 'string',
    default: () => null,
    description: "With `--auth oidc`: the issuer URL; a JWT's `iss` must equal it.",
  },
  {
    key: 'authOidcAudience',
    flag: '--auth-oidc-audience',
    env: 'GALLEY_AUTH_OIDC_AUDIENCE',
    type: 'string',
    default: () => null,
    description: "With `--auth oidc`: the audience a JWT's `aud` must hold.",
  },
  {
    key: 'authOidcJwksUrl',
    flag: '--auth-oidc-jwks-url',
    env: 'GALLEY_AUTH_OIDC_JWKS_URL',
    type: 'string',
    default: () => null,
    description:
      "The issuer's JWKS URL; default: `jwks_uri` of the issuer's `/.well-known/openid-configuration`.",
  },
  {
    key: 'authOidcSubjectClaim',
    flag: '--auth-oidc-subject-claim',
    env: 'GALLEY_AUTH_OIDC_SUBJECT_CLAIM',
    type: 'string',
    default: () => 'sub',
    description: "The JWT claim that names the principal (a run's owner).",
  },
  {
    key: 'authOidcGroupsClaim',
    flag: '--auth-oidc-groups-claim',
    env: 'GALLEY_AUTH_OIDC_GROUPS_CLAIM',
    type: 'string',
    default: () => 'groups',
    description: "The JWT claim holding the principal's groups (an array of strings, or one string).",
  },
  {
    key: 'authOidcClientId',
    flag: '--auth-oidc-client-id',
    env: 'GALLEY_AUTH_OIDC_CLIENT_ID',
    type: 'string',
    default: () => null,
    description:
      'With `--auth oidc`: the UI\'s client id at the issuer (a public client: authorization code flow with PKCE, no secret); enables "Sign in with your identity provider". Its ID tokens\' `aud` is this id, so give it as `--auth-oidc-audience` too.',
  },
  {
    key: 'authPolicyFile',
    flag: '--auth-policy-file',
    env: 'GALLEY_AUTH_POLICY_FILE',
    type: 'string',
    default: () => null,
    description:
      'A JSON policy: who may read, define, run, stop, read logs and administer per group (see below).',
  },
  {
    key: 'allowedHosts',
    flag: '--allowed-hosts',
    env: 'GALLEY_ALLOWED_HOSTS',
    type: 'string',
    default: () => null,
    description:
      'More names the `Host` header may carry, comma-separated (besides localhost, 127.0.0.1, [::1] and the listen host); others are refused (DNS rebinding).',
  },
  {
    key: 'corsOrigins',
    flag: '--cors-origins',
    env: 'GALLEY_CORS_ORIGINS',
    type: 'string',
    default: () => null,
    description:
      'Origins (`https://ui.example.com`, comma-separated) allowed to call the API from a browser; default none (CORS off).',
  },
  {
    key: 'rateLimitPerMinute',
    flag: '--rate-limit-per-minute',
    env: 'GALLEY_RATE_LIMIT_PER_MINUTE',
    type: 'integer',
    min: 0,
    default: () => 6_000,
    description:
      'With auth token or oidc: requests per minute per token (per IP address without one); more get 429. 0 = no limit.',
  },
  {
    key: 'streamMaxPerToken',
    flag: '--stream-max-per-token',
    env: 'GALLEY_STREAM_MAX_PER_TOKEN',
    type: 'integer',
    min: 1,
    default: () => 20,
    description: 'Event streams one token (one IP address when anonymous) may hold open at once.',
  },
];
