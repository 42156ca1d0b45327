import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestServer } from '../api/harness.js';
import { operationsOf } from '../api/openapi-operations.js';

// Auth mode `token`: API tokens made by the bootstrap admin, every mutating route refusing the
// unauthenticated and the wrong group (a table generated from the OpenAPI document, so routes
// added later are covered too), group members acting on their group, a revoke taking effect at
// once, the UI's cookie session with its CSRF header, and the audit log.

const BOOTSTRAP = 'bootstrap-token-of-the-test-0123456789abcdef';
let server: Awaited<ReturnType<typeof startTestServer>>;
let dir: string;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
async function call(method: string, url: string, token: string | null, payload?: unknown) {
  const res = await server.app.inject({
    method: method as 'GET',
    url,
    headers: token ? bearer(token) : {},
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return { status: res.statusCode, body: res.json<Record<string, unknown>>(), headers: res.headers };
}
async function newToken(name: string, groups: string[]): Promise<string> {
  const res = await call('POST', '/api/v1/auth/tokens', BOOTSTRAP, { name, groups });
  expect(res.status).toBe(201);
  return String(res.body['token']);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'galley-auth-'));
  await writeFile(join(dir, 'bootstrap'), `${BOOTSTRAP}\n`);
  server = await startTestServer({
    flags: { auth: 'token', authBootstrapTokenFile: join(dir, 'bootstrap') },
  });
});
afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('auth token', () => {
  it('refuses every mutating route without credentials (401 + WWW-Authenticate) and with a token of another group (403)', async () => {
    const other = await newToken('outsider', ['other']);
    const doc = (await server.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const mutating = operationsOf(doc).filter((op) => !['GET', 'HEAD'].includes(op.method));
    // Signing in and out needs no credentials: the sign-in checks the token in its body.
    const publicOps = ['POST /api/v1/auth/session', 'DELETE /api/v1/auth/session'];
    expect(mutating.length).toBeGreaterThan(10);
    for (const op of mutating) {
      if (publicOps.includes(`${op.method} ${op.path}`)) continue;
      const url = op.path.replace(/\{[^}]+\}/g, 'no-such-id');
      const anonymous = await call(op.method, url, null, op.body ? {} : undefined);
      expect({ op: `${op.method} ${op.path}`, status: anonymous.status }).toEqual({
        op: `${op.method} ${op.path}`,
        status: 401,
      });
      expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
      const wrong = await call(op.method, url, other, op.body ? {} : undefined);
      expect({ op: `${op.method} ${op.path}`, status: wrong.status, code: wrong.body['code'] }).toEqual({
        op: `${op.method} ${op.path}`,
        status: 403,
        code: 'FORBIDDEN',
      });
      expect(String(wrong.body['message'])).toMatch(/needs permission "\w+"/);
    }
  });

  it("lets a group's member define and run in its group, not another's; the run's owner is the token's subject", async () => {
    const member = await newToken('ana', ['examples']);
    const outsider = await newToken('bob', ['other']);
    const def = await call('POST', '/api/v1/task', member, {
      alias: 'auth-hello',
      group_name: 'examples',
      command: 'sleep 30',
    });
    expect(def.status).toBe(200);
    const elsewhere = await call('POST', '/api/v1/task', member, {
      alias: 'x',
      group_name: 'ops',
      command: 'true',
    });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body['message']).toContain('needs permission "define" on group "ops"');
    const refused = await call('PUT', '/api/v1/task/alias/auth-hello/execute', outsider, {
      run_tags: { owner_id: 'ana' },
    });
    expect(refused.status).toBe(403);
    expect(refused.body['message']).toContain('needs permission "run" on group "examples"');
    const run = await call('PUT', '/api/v1/task/alias/auth-hello/execute', member, {
      run_tags: { owner_id: 'someone-else' },
    });
    expect(run.status).toBe(200);
    expect(run.body['owner_id']).toBe('ana');
    // Flotilla's owner_id is kept as a label of the run.
    expect(run.body['env']).toContainEqual({ name: 'GALLEY_RUN_TAGS_OWNER_ID', value: 'someone-else' });
    const runId = String(run.body['run_id']);
    // Anyone authenticated may read; only the group (or the owner) may stop.
    expect((await call('GET', `/api/v1/history/${runId}`, outsider)).status).toBe(200);
    expect((await call('POST', `/api/v1/history/${runId}/stop`, outsider)).status).toBe(403);
    expect((await call('POST', `/api/v1/history/${runId}/stop`, member)).status).toBe(200);
  });

  it('refuses a revoked token at its next request', async () => {
    const token = await newToken('short-lived', ['examples']);
    expect((await call('GET', '/api/v1/auth/whoami', token)).body['subject']).toBe('short-lived');
    const list = await call('GET', '/api/v1/auth/tokens', BOOTSTRAP);
    const entry = (list.body['tokens'] as { token_id: string; name: string }[]).find(
      (t) => t.name === 'short-lived',
    );
    expect(JSON.stringify(list.body)).not.toContain(token);
    const revoked = await call('DELETE', `/api/v1/auth/tokens/${entry!.token_id}`, BOOTSTRAP);
    expect(revoked.status).toBe(200);
    const after = await call('GET', '/api/v1/history', token);
    expect(after.status).toBe(401);
    expect(after.body['message']).toContain('revoked');
  });

  it('signs the UI in with a cookie session; a mutation by cookie needs the CSRF header', async () => {
    const token = await newToken('ui-user', ['admin']);
    const login = await server.app.inject({
      method: 'POST',
      url: '/api/v1/auth/session',
      payload: { token },
    });
    expect(login.statusCode).toBe(200);
    const cookies = Object.fromEntries(login.cookies.map((c) => [c.name, c]));
    expect(cookies['galley_session']).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const csrf = login.json<{ csrf: string }>().csrf;
    expect(cookies['galley_csrf']?.value).toBe(csrf);
    const cookie = `galley_session=${cookies['galley_session']!.value}; galley_csrf=${csrf}`;
    const who = await server.app.inject({ method: 'GET', url: '/api/v1/auth/whoami', headers: { cookie } });
    expect(who.json()).toMatchObject({ subject: 'ui-user', mode: 'token' });
    const body = { alias: 'by-cookie', group_name: 'ui', command: 'true' };
    const without = await server.app.inject({
      method: 'POST',
      url: '/api/v1/task',
      headers: { cookie },
      payload: body,
    });
    expect(without.statusCode).toBe(403);
    expect(without.json()).toMatchObject({ code: 'CSRF' });
    const withHeader = await server.app.inject({
      method: 'POST',
      url: '/api/v1/task',
      headers: { cookie, 'x-galley-csrf': csrf },
      payload: body,
    });
    expect(withHeader.statusCode).toBe(200);
    const bad = await server.app.inject({
      method: 'POST',
      url: '/api/v1/auth/session',
      payload: { token: 'glt_nope' },
    });
    expect(bad.statusCode).toBe(401);
  });

  it('writes every mutation to the audit log (who, route and ids, from where, status), for admins only', async () => {
    const admin = await newToken('auditor', ['admin']);
    const reader = await newToken('reader', ['other']);
    await call('DELETE', '/api/v1/task/audited-id', reader);
    const entries = await eventually(async () => {
      const res = await call('GET', '/api/v1/audit?subject=reader&limit=10', admin);
      const list = res.body['entries'] as Record<string, unknown>[];
      return list.some((e) => e['path'] === '/api/v1/task/audited-id') ? list : undefined;
    });
    expect(entries.find((e) => e['path'] === '/api/v1/task/audited-id')).toMatchObject({
      subject: 'reader',
      method: 'DELETE',
      route: '/api/v1/task/:definition_id',
      ids: { definition_id: 'audited-id' },
      ip: '127.0.0.1',
      status: 403,
    });
    expect((await call('GET', '/api/v1/audit', reader)).status).toBe(403);
  });
});

describe('limits per token', () => {
  it('caps event streams per token (429), and answers 429 in the one error shape past the per-minute limit; other credentials keep theirs', async () => {
    const limited = await startTestServer({
      flags: {
        auth: 'token',
        authBootstrapTokenFile: join(dir, 'bootstrap'),
        rateLimitPerMinute: '5',
        streamMaxPerToken: '1',
      },
    });
    const open = new AbortController();
    try {
      const base = await limited.listen();
      const created = await limited.app.inject({
        method: 'POST',
        url: '/api/v1/auth/tokens',
        headers: bearer(BOOTSTRAP),
        payload: { name: 'watcher' },
      });
      const watcher = created.json<{ token: string }>().token;
      const first = await fetch(`${base}/api/v1/stream`, { headers: bearer(watcher), signal: open.signal });
      expect(first.status).toBe(200);
      const second = await fetch(`${base}/api/v1/stream`, { headers: bearer(watcher) });
      expect(second.status).toBe(429);
      expect(await second.json()).toMatchObject({ code: 'TOO_MANY_STREAMS' });
      open.abort();

      const get = (headers: Record<string, string>) =>
        limited.app.inject({ method: 'GET', url: '/api/v1/history', headers });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await get(bearer(BOOTSTRAP))).statusCode);
      expect(statuses).toEqual([200, 200, 200, 200, 429]);
      const refused = await get(bearer(BOOTSTRAP));
      expect(refused.json()).toMatchObject({ code: 'RATE_LIMITED' });
      // Without credentials: its own bucket (the address's), so a 401, not a 429.
      expect((await get({})).statusCode).toBe(401);
    } finally {
      open.abort();
      await limited.stop();
    }
  });
});
