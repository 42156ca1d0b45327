import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';

/**
 * A small Vault client over fetch: KV v2 reads (`GET /v1/{mount}/data/{path}` with
 * `X-Vault-Token`), and the token it reads with — given (`--vault-token-file` or VAULT_TOKEN), or
 * from an AppRole login (`POST /v1/auth/approle/login` with role_id and secret_id read from
 * files). A renewable token is renewed (`POST /v1/auth/token/renew-self`) when two thirds of its
 * lease have passed; a renewal that fails makes the next read log in again (AppRole) — a given
 * token cannot be replaced, so its reads fail with Vault's answer. Tokens are never logged.
 */

/** How Galley reaches Vault. */
export interface VaultSettings {
  /** `http(s)://host:port` */
  addr: string;
  /** The KV v2 mount (`secret`). */
  mount: string;
  /** Enterprise namespace (`X-Vault-Namespace`); null = none. */
  namespace: string | null;
  auth: { kind: 'token'; token: string } | { kind: 'approle'; roleIdFile: string; secretIdFile: string };
  /** Each request's timeout (ms). */
  timeoutMs: number;
}

/** Why a read failed, in words that name the reference and never a value. */
export class VaultError extends Error {
  override readonly name = 'VaultError';
  constructor(
    readonly reason: 'not-found' | 'permission-denied' | 'unreachable' | 'no-such-key' | 'vault-error',
    message: string,
  ) {
    super(message);
  }
}

interface TokenState {
  token: string;
  /** When its lease ends (ms); null = it does not expire. */
  expiresAt: number | null;
  renewable: boolean;
  leaseMs: number;
}

export class VaultClient {
  private state: TokenState | null = null;
  private pending: Promise<TokenState> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Renewals that succeeded (for diagnostics and tests). */
  renewals = 0;

  constructor(
    private readonly o: VaultSettings,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The fields of the KV v2 secret at `path`; `ref` names the reference in errors. A 403 with a
   * token that may have lapsed logs in again once (AppRole) before it is believed.
   */
  async readKv(path: string, ref: string): Promise<Record<string, unknown>> {
    const url = `${this.o.addr}/v1/${encodePath(this.o.mount)}/data/${encodePath(path)}`;
    for (let attempt = 0; ; attempt++) {
      const token = await this.token(ref);
      const res = await this.request('GET', url, token.token, undefined, ref);
      if (res.status === 200) {
        const body = (await res.json().catch(() => null)) as { data?: { data?: unknown } } | null;
        const data = body?.data?.data;
        if (!data || typeof data !== 'object')
          throw new VaultError(
            'vault-error',
            `${ref}: Vault answered a KV v2 read without data (is ${this.o.mount} a KV v2 mount?)`,
          );
        return data as Record<string, unknown>;
      }
      await res.body?.cancel().catch(() => undefined);
      if (res.status === 404)
        throw new VaultError('not-found', `${ref}: Vault has no secret at ${this.o.mount}/${path}`);
      if (res.status === 403 && attempt === 0 && this.o.auth.kind === 'approle') {
        this.forget(token);
        continue;
      }
      if (res.status === 403)
        throw new VaultError('permission-denied', `${ref}: Vault denied the read (permission denied)`);
      throw new VaultError('vault-error', `${ref}: Vault answered HTTP ${res.status}`);
    }
  }

  /** Stops renewing. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The current token, logging in when there is none (or it expired). */
  private async token(ref: string): Promise<TokenState> {
    const s = this.state;
    if (s && (s.expiresAt === null || s.expiresAt > this.now())) return s;
    this.pending ??= this.login(ref).finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private forget(token: TokenState): void {
    if (this.state === token) this.state = null;
  }

  private async login(ref: string): Promise<TokenState> {
    const auth = this.o.auth;
    let state: TokenState;
    if (auth.kind === 'token') {
      state = await this.lookupSelf(auth.token, ref);
    } else {
      const [roleId, secretId] = await Promise.all([
        readSecretFile(auth.roleIdFile, 'role_id'),
        readSecretFile(auth.secretIdFile, 'secret_id'),
      ]);
      const res = await this.request(
        'POST',
        `${this.o.addr}/v1/auth/approle/login`,
        null,
        JSON.stringify({ role_id: roleId, secret_id: secretId }),
        ref,
      );
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => undefined);
        throw new VaultError(
          res.status === 400 || res.status === 403 ? 'permission-denied' : 'vault-error',
          `${ref}: the AppRole login to Vault failed (HTTP ${res.status})`,
        );
      }
      state = this.fromAuth(await res.json(), ref);
      this.logger.info({ leaseSeconds: Math.round(state.leaseMs / 1000) }, 'vault: logged in with AppRole');
    }
    this.state = state;
    this.scheduleRenewal(state);
    return state;
  }

  /** A given token's lease, from `GET /v1/auth/token/lookup-self`; a token that cannot look itself up is taken as it is. */
  private async lookupSelf(token: string, ref: string): Promise<TokenState> {
    const res = await this.request('GET', `${this.o.addr}/v1/auth/token/lookup-self`, token, undefined, ref);
    const base: TokenState = { token, expiresAt: null, renewable: false, leaseMs: 0 };
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      return base;
    }
    const body = (await res.json().catch(() => null)) as {
      data?: { ttl?: number; renewable?: boolean };
    } | null;
    const ttl = Number(body?.data?.ttl ?? 0);
    if (!(ttl > 0)) return base;
    return {
      token,
      expiresAt: this.now() + ttl * 1000,
      renewable: body?.data?.renewable === true,
      leaseMs: ttl * 1000,
    };
  }

  private fromAuth(body: unknown, ref: string): TokenState {
    const auth = (
      body as { auth?: { client_token?: unknown; lease_duration?: unknown; renewable?: unknown } } | null
    )?.auth;
    if (!auth || typeof auth.client_token !== 'string' || auth.client_token === '')
      throw new VaultError('vault-error', `${ref}: Vault answered a login without auth.client_token`);
    const lease = Number(auth.lease_duration ?? 0);
    return {
      token: auth.client_token,
      expiresAt: lease > 0 ? this.now() + lease * 1000 : null,
      renewable: auth.renewable === true,
      leaseMs: lease * 1000,
    };
  }

  /** Renews at two thirds of the lease; a failure forgets the token (the next read logs in again). */
  private scheduleRenewal(state: TokenState): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.closed || !state.renewable || state.expiresAt === null) return;
    const delay = Math.max(100, Math.floor(((state.expiresAt - this.now()) * 2) / 3));
    this.timer = setTimeout(() => void this.renew(state), delay);
    this.timer.unref();
  }

  private async renew(state: TokenState): Promise<void> {
    if (this.closed || this.state !== state) return;
    try {
      const res = await this.request(
        'POST',
        `${this.o.addr}/v1/auth/token/renew-self`,
        state.token,
        '{}',
        'renewal',
      );
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => undefined);
        throw new Error(`HTTP ${res.status}`);
      }
      const next = this.fromAuth(await res.json(), 'renewal');
      if (this.state !== state) return;
      this.renewals++;
      this.state = next;
      this.scheduleRenewal(next);
    } catch (err) {
      this.logger.warn(
        { err: (err as Error).message },
        'vault: the token renewal failed; the next read logs in again',
      );
      this.forget(state);
    }
  }

  private async request(
    method: string,
    url: string,
    token: string | null,
    body: string | undefined,
    ref: string,
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (token !== null) headers['X-Vault-Token'] = token;
    if (this.o.namespace) headers['X-Vault-Namespace'] = this.o.namespace;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
    } catch (err) {
      const why =
        (err as Error).name === 'TimeoutError'
          ? `no answer within ${this.o.timeoutMs} ms`
          : (err as Error).message;
      throw new VaultError('unreachable', `${ref}: Vault at ${this.o.addr} is unreachable (${why})`);
    }
  }
}

/** A path for a URL: each segment encoded, the `/` kept. */
function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

async function readSecretFile(path: string, what: string): Promise<string> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    if (text === '') throw new Error('it is empty');
    return text;
  } catch (err) {
    throw new VaultError(
      'vault-error',
      `the Vault AppRole ${what} file ${path} cannot be read (${(err as Error).message})`,
    );
  }
}
