import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../api/harness.js';

// Auth mode `oidc` against a fake OIDC issuer on loopback: it serves the documented discovery
// document (`/.well-known/openid-configuration` with `jwks_uri`) and a JWKS; the test signs JWTs
// with the issuer's key (jose) — as an identity provider would — and the server verifies them.

let issuer: Server;
let issuerUrl: string;
let server: Awaited<ReturnType<typeof startTestServer>>;
/** Codes the fake issuer handed out (the authorize step), with the PKCE challenge each is bound to. */
const codes = new Map<string, { challenge: string; redirectUri: string; clientId: string; sub: string }>();
let sign: (claims: Record<string, unknown>, expiresAt: number, audience?: string) => Promise<string>;

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  issuer = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration')
      return res.end(
        JSON.stringify({
          issuer: issuerUrl,
          jwks_uri: `${issuerUrl}/jwks`,
          authorization_endpoint: `${issuerUrl}/authorize`,
          token_endpoint: `${issuerUrl}/token`,
        }),
      );
    if (req.url === '/jwks') return res.end(JSON.stringify({ keys: [jwk] }));
    if (req.url === '/token' && req.method === 'POST') {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        // RFC 6749 §4.1.3 with RFC 7636 §4.6: the verifier must hash to the code's challenge.
        const form = new URLSearchParams(text);
        const code = codes.get(form.get('code') ?? '');
        const verifier = form.get('code_verifier') ?? '';
        const hashed = createHash('sha256').update(verifier).digest('base64url');
        const ok =
          form.get('grant_type') === 'authorization_code' &&
          code !== undefined &&
          code.challenge === hashed &&
          code.redirectUri === form.get('redirect_uri') &&
          code.clientId === form.get('client_id');
        if (!ok) {
          res.statusCode = 400;
          return res.end(JSON.stringify({ error: 'invalid_grant' }));
        }
        codes.delete(form.get('code')!);
        void sign({ sub: code.sub, groups: ['examples'] }, Math.floor(Date.now() / 1000) + 300).then(
          (idToken) =>
            res.end(JSON.stringify({ id_token: idToken, access_token: 'opaque', token_type: 'Bearer' })),
        );
      });
      return;
    }
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((resolve) => issuer.listen(0, '127.0.0.1', resolve));
  issuerUrl = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}`;
  sign = (claims, expiresAt, audience = 'galley') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(issuerUrl)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime(expiresAt)
      .sign(privateKey);
  server = await startTestServer({
    flags: {
      auth: 'oidc',
      authOidcIssuer: issuerUrl,
      authOidcAudience: 'galley',
      authOidcClientId: 'galley',
    },
  });
});
afterAll(async () => {
  await server?.stop();
  await new Promise((resolve) => issuer?.close(resolve));
});

const whoami = async (token: string) => {
  const res = await server.app.inject({
    method: 'GET',
    url: '/api/v1/auth/whoami',
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.statusCode, body: res.json<Record<string, unknown>>(), headers: res.headers };
};
const now = () => Math.floor(Date.now() / 1000);

describe('auth oidc (fake OIDC issuer)', () => {
  it("accepts a valid JWT of the issuer: subject and groups from its claims; admins' group may create tokens", async () => {
    const jwt = await sign({ sub: 'carol', groups: ['admin', 'examples'] }, now() + 300);
    const ok = await whoami(jwt);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      subject: 'carol',
      groups: ['admin', 'examples'],
      via: 'jwt',
      mode: 'oidc',
    });
    const created = await server.app.inject({
      method: 'POST',
      url: '/api/v1/auth/tokens',
      headers: { authorization: `Bearer ${jwt}` },
      payload: { name: 'ci', groups: ['examples'] },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ subject: 'ci', created_by: 'carol' });
  });

  it('refuses an expired JWT (401 saying so), one for another audience, and one signed by another key', async () => {
    const expired = await whoami(await sign({ sub: 'carol' }, now() - 120));
    expect(expired.status).toBe(401);
    expect(expired.body['message']).toMatch(/expired/);
    expect(expired.headers['www-authenticate']).toMatch(/^Bearer/);
    const foreign = await new SignJWT({ sub: 'mallory', groups: ['admin'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(issuerUrl)
      .setAudience('galley')
      .setExpirationTime(now() + 300)
      .sign((await generateKeyPair('RS256')).privateKey);
    expect((await whoami(foreign)).status).toBe(401);
    const otherAudience = await whoami(await sign({ sub: 'carol' }, now() + 300, 'another-service'));
    expect(otherAudience.status).toBe(401);
    expect(otherAudience.body['message']).toContain('"aud"');
  });

  it('signs the UI in through the issuer: authorization code flow with PKCE (S256), session cookies after the callback', async () => {
    const login = await server.app.inject({
      method: 'GET',
      url: '/api/v1/auth/oidc/login',
      headers: { host: 'localhost:1424' },
    });
    expect(login.statusCode).toBe(302);
    const to = new URL(String(login.headers['location']));
    expect(`${to.origin}${to.pathname}`).toBe(`${issuerUrl}/authorize`);
    expect(Object.fromEntries(to.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'galley',
      redirect_uri: 'http://localhost:1424/api/v1/auth/oidc/callback',
      code_challenge_method: 'S256',
    });
    const flow = login.cookies.find((c) => c.name === 'galley_oidc')!;
    expect(flow).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    // The user signs in at the issuer, which redirects back with a code bound to the challenge.
    codes.set('code-1', {
      challenge: to.searchParams.get('code_challenge')!,
      redirectUri: to.searchParams.get('redirect_uri')!,
      clientId: 'galley',
      sub: 'erin',
    });
    const state = to.searchParams.get('state')!;
    const forged = await server.app.inject({
      method: 'GET',
      url: `/api/v1/auth/oidc/callback?code=code-1&state=another-state`,
      headers: { host: 'localhost:1424', cookie: `galley_oidc=${flow.value}` },
    });
    expect(forged.statusCode).toBe(400);
    const back = await server.app.inject({
      method: 'GET',
      url: `/api/v1/auth/oidc/callback?code=code-1&state=${state}`,
      headers: { host: 'localhost:1424', cookie: `galley_oidc=${flow.value}` },
    });
    expect(back.statusCode, back.body).toBe(302);
    expect(back.headers['location']).toBe('/');
    const session = back.cookies.find((c) => c.name === 'galley_session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const who = await server.app.inject({
      method: 'GET',
      url: '/api/v1/auth/whoami',
      headers: { cookie: `galley_session=${session.value}` },
    });
    expect(who.json()).toMatchObject({ subject: 'erin', groups: ['examples'], via: 'jwt' });
  });
});
