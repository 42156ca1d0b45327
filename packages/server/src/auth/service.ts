import { readFileSync } from 'node:fs';
import type { Clock } from '../clock.js';
import type { AuthSettings } from '../config/auth-settings.js';
import type { SqlClient } from '../store/sql-client.js';
import { AuditLog } from './audit.js';
import { CredentialsError, JwtVerifier } from './jwt.js';
import { loadPolicy, type Policy, type Principal } from './policy.js';
import { hashToken, sameDigest, TokenStore, TOKEN_PREFIX } from './tokens.js';

/** The principal of every request when auth is `none` (loopback only): may do everything. */
export const ANONYMOUS: Principal = { subject: 'anonymous', groups: [], via: 'none', key: 'anonymous' };

/** The bootstrap token's principal: an admin, to create the first API tokens. */
const BOOTSTRAP_SUBJECT = 'bootstrap';

/** Shortest bootstrap token accepted: it must be as hard to guess as a generated one. */
const MIN_BOOTSTRAP_LENGTH = 32;

/** A bootstrap token file that cannot be used (missing, too short). */
export class AuthSetupError extends Error {
  override readonly name = 'AuthSetupError';
}

/**
 * Who a request is: tells API tokens (`glt_…`, looked up by hash in the store at every request),
 * the bootstrap token and OIDC JWTs apart, and holds the policy, the token store and the audit log.
 */
export class AuthService {
  readonly tokens: TokenStore;
  readonly audit: AuditLog;
  readonly policy: Policy;
  private readonly jwt: JwtVerifier | null;
  private readonly bootstrapHash: string | null;

  constructor(
    readonly settings: AuthSettings,
    db: SqlClient,
    readonly clock: Clock,
  ) {
    this.tokens = new TokenStore(db);
    this.audit = new AuditLog(db);
    try {
      this.policy = loadPolicy(settings.policyFile);
    } catch (err) {
      throw new AuthSetupError(`authPolicyFile (--auth-policy-file): ${(err as Error).message}`);
    }
    this.jwt = settings.oidc ? new JwtVerifier(settings.oidc) : null;
    this.bootstrapHash = settings.bootstrapTokenFile
      ? hashToken(readBootstrap(settings.bootstrapTokenFile))
      : null;
  }

  get enabled(): boolean {
    return this.settings.mode !== 'none';
  }

  /** Whether the server can be used at all: some token (or the bootstrap) lets an admin in. */
  async checkUsable(): Promise<void> {
    if (!this.enabled || this.bootstrapHash || this.settings.mode === 'oidc') return;
    const { total } = await this.tokens.list(1, 0);
    if (total === 0)
      throw new AuthSetupError(
        'auth token: no API token exists yet; start once with --auth-bootstrap-token-file FILE (a file holding a random token of 32 or more characters) and create tokens with it',
      );
  }

  /** The principal a bearer token stands for; CredentialsError (401) saying why not. */
  async principalOf(token: string): Promise<Principal> {
    if (this.bootstrapHash && sameDigest(hashToken(token), this.bootstrapHash))
      return { subject: BOOTSTRAP_SUBJECT, groups: [], via: 'bootstrap', key: 'bootstrap' };
    if (token.startsWith(TOKEN_PREFIX)) {
      const t = await this.tokens.find(token);
      if (!t) throw new CredentialsError('the API token is not valid');
      if (t.revokedAt !== null) throw new CredentialsError('the API token has been revoked');
      if (t.expiresAt !== null && t.expiresAt <= this.clock.now())
        throw new CredentialsError('the API token has expired');
      return { subject: t.subject, groups: t.groups, via: 'token', key: `token:${t.tokenId}` };
    }
    if (this.jwt && token.split('.').length === 3) {
      const { subject, groups } = await this.jwt.verify(token);
      return { subject, groups, via: 'jwt', key: `jwt:${subject}` };
    }
    throw new CredentialsError('the bearer token is not valid');
  }
}

function readBootstrap(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new AuthSetupError(
      `authBootstrapTokenFile (--auth-bootstrap-token-file): ${(err as Error).message}`,
    );
  }
  if (text.length < MIN_BOOTSTRAP_LENGTH)
    throw new AuthSetupError(
      `authBootstrapTokenFile (--auth-bootstrap-token-file): the token in ${path} is shorter than ${MIN_BOOTSTRAP_LENGTH} characters`,
    );
  return text;
}
