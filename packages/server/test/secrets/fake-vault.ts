import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

/**
 * A fake Vault on loopback speaking the documented HTTP API Galley uses:
 *  - KV v2 read `GET /v1/{mount}/data/{path}` → `{data: {data: {...}, metadata: {...}}}`, 404 with
 *    `{errors: []}` when there is no secret, 403 `{errors: ["permission denied"]}` for a bad token;
 *  - AppRole login `POST /v1/auth/approle/login` `{role_id, secret_id}` →
 *    `{auth: {client_token, accessor, policies, lease_duration, renewable}}`, 400 for bad credentials;
 *  - `POST /v1/auth/token/renew-self` → the same `auth` shape with a fresh lease;
 *  - `GET /v1/auth/token/lookup-self` → `{data: {ttl, renewable, …}}`.
 * Tokens expire after their lease (403 then), as Vault's do. It counts the calls.
 */
export interface FakeVault {
  url: string;
  /** Calls by `METHOD path`. */
  calls: Map<string, number>;
  /** Secrets by `mount/path`. */
  secrets: Map<string, Record<string, string>>;
  /** Headers of the last request (to check the namespace). */
  lastHeaders: () => IncomingMessage['headers'];
  count(key: string): number;
  stop(): Promise<void>;
}

export interface FakeVaultOptions {
  roleId?: string;
  secretId?: string;
  /** Tokens valid from the start (token auth). */
  staticTokens?: string[];
  /** Lease of AppRole tokens and renewals, in seconds. */
  leaseSeconds?: number;
}

export async function startFakeVault(o: FakeVaultOptions = {}): Promise<FakeVault> {
  const calls = new Map<string, number>();
  const secrets = new Map<string, Record<string, string>>();
  const lease = o.leaseSeconds ?? 3600;
  /** token → expiry (ms); Infinity for static tokens. */
  const tokens = new Map<string, number>((o.staticTokens ?? []).map((t) => [t, Infinity]));
  let last: IncomingMessage['headers'] = {};
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const valid = (req: IncomingMessage): string | null => {
    const token = req.headers['x-vault-token'];
    if (typeof token !== 'string') return null;
    const until = tokens.get(token);
    return until !== undefined && until > Date.now() ? token : null;
  };
  const auth = (token: string) => ({
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data: null,
    auth: {
      client_token: token,
      accessor: randomUUID(),
      policies: ['default'],
      lease_duration: lease,
      renewable: true,
    },
  });
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      last = req.headers;
      const path = (req.url ?? '').split('?')[0]!;
      const key = `${req.method} ${path}`;
      calls.set(key, (calls.get(key) ?? 0) + 1);
      if (req.method === 'POST' && path === '/v1/auth/approle/login') {
        let parsed: { role_id?: string; secret_id?: string } = {};
        try {
          parsed = JSON.parse(body) as typeof parsed;
        } catch {
          return send(res, 400, { errors: ['failed to parse JSON input'] });
        }
        if (parsed.role_id !== o.roleId || parsed.secret_id !== o.secretId)
          return send(res, 400, { errors: ['invalid role or secret ID'] });
        const token = `hvs.${randomUUID()}`;
        tokens.set(token, Date.now() + lease * 1000);
        return send(res, 200, auth(token));
      }
      const token = valid(req);
      if (!token) return send(res, 403, { errors: ['permission denied'] });
      if (req.method === 'POST' && path === '/v1/auth/token/renew-self') {
        tokens.set(token, Date.now() + lease * 1000);
        return send(res, 200, auth(token));
      }
      if (req.method === 'GET' && path === '/v1/auth/token/lookup-self') {
        const until = tokens.get(token)!;
        const ttl = until === Infinity ? 0 : Math.round((until - Date.now()) / 1000);
        return send(res, 200, {
          data: { id: token, ttl, renewable: until !== Infinity, policies: ['default'] },
        });
      }
      const kv = /^\/v1\/([^/]+)\/data\/(.+)$/.exec(path);
      if (req.method === 'GET' && kv) {
        const data = secrets.get(`${kv[1]}/${decodeURIComponent(kv[2]!)}`);
        if (!data) return send(res, 404, { errors: [] });
        return send(res, 200, {
          request_id: randomUUID(),
          lease_id: '',
          renewable: false,
          lease_duration: 0,
          data: {
            data,
            metadata: {
              created_time: new Date().toISOString(),
              deletion_time: '',
              destroyed: false,
              version: 1,
            },
          },
        });
      }
      send(res, 404, { errors: [] });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    secrets,
    lastHeaders: () => last,
    count: (k) => calls.get(k) ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
