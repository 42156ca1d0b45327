import type { createRemoteJWKSet, JWTPayload } from 'jose';
import type { OidcSettings } from '../config/auth-settings.js';

/** Why a bearer token was refused: said in the 401's message. */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

/** The groups in a claim: an array of strings, or one string (`a b` or `a,b` split). */
function groupsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === 'string');
  if (typeof value === 'string') return value.split(/[\s,]+/).filter((g) => g !== '');
  return [];
}

/** What the issuer's discovery document (`/.well-known/openid-configuration`) says, the parts Galley uses. */
export interface IssuerMetadata {
  jwks_uri?: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
}

/** Reads the issuer's discovery document. */
export async function discover(issuer: string): Promise<IssuerMetadata> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) }).catch((err: unknown) => {
    throw new CredentialsError(`the OIDC issuer cannot be reached (${(err as Error).message})`);
  });
  if (!res.ok) throw new CredentialsError(`the OIDC issuer's discovery document answered ${res.status}`);
  return (await res.json()) as IssuerMetadata;
}

/** The JWKS URL: configured, or the `jwks_uri` of the issuer's discovery document. */
async function jwksUrlOf(oidc: OidcSettings): Promise<URL> {
  if (oidc.jwksUrl) return new URL(oidc.jwksUrl);
  const doc = await discover(oidc.issuer);
  if (typeof doc.jwks_uri !== 'string')
    throw new CredentialsError("the OIDC issuer's discovery has no jwks_uri");
  return new URL(doc.jwks_uri);
}

/**
 * Verifies OIDC/JWT bearer tokens with `jose` against the issuer's JWKS (fetched once, refetched
 * when a token names an unknown key): signature, `iss`, `aud`, `exp` and `nbf`. Answers the
 * subject and groups from the configured claims.
 */
export class JwtVerifier {
  /** jose is loaded with the first token, not with the server: only the `oidc` mode needs it. */
  private readonly jose = import('jose');
  private jwks: ReturnType<typeof createRemoteJWKSet> | null = null;

  constructor(private readonly oidc: OidcSettings) {}

  async verify(token: string): Promise<{ subject: string; groups: string[] }> {
    const { createRemoteJWKSet, errors, jwtVerify } = await this.jose;
    this.jwks ??= createRemoteJWKSet(await jwksUrlOf(this.oidc), { timeoutDuration: 10_000 });
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.oidc.issuer,
        audience: this.oidc.audience,
        clockTolerance: 5,
      }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new CredentialsError('the bearer token has expired');
      if (err instanceof errors.JWTClaimValidationFailed)
        throw new CredentialsError(`the bearer token's "${err.claim}" claim is not accepted`);
      if (err instanceof errors.JOSEError) throw new CredentialsError('the bearer token is not valid');
      throw err;
    }
    const subject = payload[this.oidc.subjectClaim];
    if (typeof subject !== 'string' || subject === '')
      throw new CredentialsError(`the bearer token has no "${this.oidc.subjectClaim}" claim`);
    return { subject, groups: groupsOf(payload[this.oidc.groupsClaim]) };
  }
}
