import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkStartable, ConfigError, resolveConfig } from '../../src/config/config.js';
import { eventually, startTestServer } from '../api/harness.js';

// Browser safety with the default auth `none` on loopback: DNS rebinding (a foreign Host) and
// cross-origin mutations are refused, UI pages carry a strict CSP, mutations are audited; and the
// settings that must not start (auth none off loopback) refuse to.

let server: Awaited<ReturnType<typeof startTestServer>>;
let web: string;

beforeAll(async () => {
  web = await mkdtemp(join(tmpdir(), 'galley-web-'));
  await writeFile(join(web, 'index.html'), '<!doctype html><title>Galley</title>');
  server = await startTestServer({ webDist: web });
});
afterAll(async () => {
  await server?.stop();
  await rm(web, { recursive: true, force: true });
});

async function startedRun(): Promise<string> {
  await server.app.inject({
    method: 'POST',
    url: '/api/v1/task',
    payload: { alias: 'long', command: 'sleep 30' },
  });
  const run = await server.app.inject({
    method: 'PUT',
    url: '/api/v1/task/alias/long/execute',
    payload: { run_tags: { owner_id: 'me' } },
  });
  return run.json<{ run_id: string }>().run_id;
}

describe('browser safety (auth none, loopback)', () => {
  it('refuses a foreign Host (DNS rebinding) with 421, API and UI alike; loopback names and IPs pass', async () => {
    for (const url of ['/api/v1/history', '/']) {
      const res = await server.app.inject({ method: 'GET', url, headers: { host: 'attacker.example:1424' } });
      expect(res.statusCode).toBe(421);
      expect(res.json()).toMatchObject({ code: 'HOST_NOT_ALLOWED' });
    }
    for (const host of ['localhost:1424', '127.0.0.1:1424', '[::1]:1424'])
      expect(
        (await server.app.inject({ method: 'GET', url: '/api/v1/history', headers: { host } })).statusCode,
      ).toBe(200);
  });

  it('refuses a cross-origin stop (403) and the run keeps running; the same origin may stop it', async () => {
    const runId = await startedRun();
    const host = '127.0.0.1:1424';
    const cross = await server.app.inject({
      method: 'POST',
      url: `/api/v1/history/${runId}/stop`,
      headers: { host, origin: 'http://attacker.example' },
    });
    expect(cross.statusCode).toBe(403);
    expect(cross.json()).toMatchObject({ code: 'CROSS_ORIGIN' });
    const after = await server.app.inject({ method: 'GET', url: `/api/v1/history/${runId}` });
    expect(['QUEUED', 'PENDING', 'RUNNING']).toContain(after.json<{ status: string }>().status);
    const same = await server.app.inject({
      method: 'POST',
      url: `/api/v1/history/${runId}/stop`,
      headers: { host, origin: `http://${host}` },
    });
    expect(same.statusCode).toBe(200);
  });

  it('serves UI pages with a strict Content-Security-Policy and no framing', async () => {
    const page = await server.app.inject({ method: 'GET', url: '/runs', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
  });

  it('audits mutations as the anonymous principal', async () => {
    await server.app.inject({ method: 'DELETE', url: '/api/v1/task/audit-me' });
    const entry = await eventually(async () => {
      const list = (await server.app.inject({ method: 'GET', url: '/api/v1/audit?method=DELETE' })).json<{
        entries: Record<string, unknown>[];
      }>();
      return list.entries.find((e) => e['path'] === '/api/v1/task/audit-me');
    });
    expect(entry).toMatchObject({ subject: 'anonymous', status: 404, ids: { definition_id: 'audit-me' } });
  });
});

describe('settings that must not start', () => {
  it('refuses auth none off loopback, naming the setting', () => {
    const config = resolveConfig({ env: {}, flags: { listen: '0.0.0.0:1424' } });
    expect(() => checkStartable(config)).toThrow(ConfigError);
    expect(() => checkStartable(config)).toThrow(
      /auth \(--auth\): "none" is allowed only when listening on loopback/,
    );
    expect(() =>
      checkStartable(resolveConfig({ env: {}, flags: { listen: '0.0.0.0:1424', auth: 'token' } })),
    ).not.toThrow();
    expect(() => resolveConfig({ env: {}, flags: { auth: 'oidc' } })).toThrow(/authOidcIssuer/);
  });
});
