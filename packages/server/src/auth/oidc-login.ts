import { createHash, randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { RoutesOptions } from '../api/deps.js';
import { ApiError } from '../api/errors.js';
import { ErrorBody, Text } from '../api/schemas/common.js';
import { CSRF_COOKIE, SESSION_COOKIE } from './hooks.js';
import { CredentialsError, discover, type IssuerMetadata } from './jwt.js';

/** The cookie holding the flow's state and PKCE verifier between the login and the callback. */
const FLOW_COOKIE = 'galley_oidc';
const FLOW_PATH = '/api/v1/auth/oidc';

const b64url = (bytes: Buffer) => bytes.toString('base64url');

/**
 * The UI's sign-in through the OIDC issuer: the authorization code flow with PKCE (S256) for a
 * public client (`--auth-oidc-client-id`, no secret). `/auth/oidc/login` sends the browser to the
 * issuer with a fresh state and code challenge (kept in an HttpOnly cookie for ten minutes);
 * `/auth/oidc/callback` checks the state, exchanges the code and verifier at the issuer's token
 * endpoint, verifies the ID token as any bearer JWT, and sets the UI's session cookies.
 */
export const oidcLoginRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (
  app,
  { deps, documented },
) => {
  const auth = deps.auth;
  const oidc = auth.settings.oidc;
  const hide = !documented;
  const tags = ['auth'];
  let metadata: IssuerMetadata | null = null;
  const endpoints = async () => {
    metadata ??= await discover(oidc!.issuer).catch((err: unknown) => {
      throw err instanceof CredentialsError ? new ApiError(502, 'OIDC_ISSUER', err.message) : err;
    });
    const { authorization_endpoint: authorize, token_endpoint: token } = metadata;
    if (!authorize || !token)
      throw new ApiError(
        502,
        'OIDC_ISSUER',
        "the OIDC issuer's discovery names no authorization or token endpoint",
      );
    return { authorize, token };
  };
  const enabled = () => {
    if (!oidc?.clientId)
      throw new ApiError(
        404,
        'OIDC_LOGIN_OFF',
        'sign-in through the issuer is not configured (--auth-oidc-client-id)',
      );
    return oidc.clientId;
  };
  const redirectUri = (req: { protocol: string; headers: { host?: string } }) =>
    `${req.protocol}://${req.headers.host ?? 'localhost'}${FLOW_PATH}/callback`;

  app.get(
    '/auth/methods',
    {
      config: { public: true },
      schema: {
        tags,
        hide,
        summary: 'How to sign in: the auth mode, and whether the issuer sign-in is offered',
        response: { 200: Type.Object({ mode: Type.String(), oidc_login: Type.Boolean() }) },
      },
    },
    async () => ({ mode: auth.settings.mode, oidc_login: Boolean(oidc?.clientId) }),
  );

  app.get(
    '/auth/oidc/login',
    {
      config: { public: true },
      schema: {
        tags,
        hide,
        summary: 'Sign the UI in through the OIDC issuer (redirects there)',
        response: { 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const clientId = enabled();
      const { authorize } = await endpoints();
      const state = b64url(randomBytes(24));
      const verifier = b64url(randomBytes(32));
      const challenge = b64url(createHash('sha256').update(verifier).digest());
      const url = new URL(authorize);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: redirectUri(req),
        scope: 'openid profile email',
        state,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }).toString();
      // Lax: the browser must send it back on the issuer's top-level redirect to the callback.
      void reply.setCookie(FLOW_COOKIE, `${state}.${verifier}`, {
        path: FLOW_PATH,
        httpOnly: true,
        sameSite: 'lax',
        secure: req.protocol === 'https',
        maxAge: 600,
      });
      return reply.redirect(url.toString(), 302);
    },
  );

  app.get(
    '/auth/oidc/callback',
    {
      config: { public: true },
      schema: {
        tags,
        hide,
        summary:
          "The issuer's redirect back: exchanges the code, sets the session cookies, redirects to the UI",
        querystring: Type.Object({
          code: Type.Optional(Text(4096, { minLength: 1 })),
          state: Type.Optional(Text(256, { minLength: 1 })),
          error: Type.Optional(Text(256)),
          error_description: Type.Optional(Text(1024)),
        }),
        response: { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 502: ErrorBody },
      },
    },
    async (req, reply) => {
      const clientId = enabled();
      const q = req.query;
      if (q.error) throw new ApiError(401, 'UNAUTHENTICATED', `the issuer refused the sign-in: ${q.error}`);
      const [state, verifier] = (req.cookies[FLOW_COOKIE] ?? '').split('.');
      if (!q.code || !q.state || !state || !verifier || q.state !== state)
        throw new ApiError(
          400,
          'OIDC_STATE',
          'the sign-in state does not match this browser’s; start again',
          {
            'query.state': 'does not match the sign-in this browser started',
          },
        );
      const { token } = await endpoints();
      const res = await fetch(token, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: q.code,
          redirect_uri: redirectUri(req),
          client_id: clientId,
          code_verifier: verifier,
        }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await res.json().catch(() => ({}))) as { id_token?: unknown };
      if (!res.ok || typeof body.id_token !== 'string')
        throw new ApiError(
          401,
          'UNAUTHENTICATED',
          `the issuer's token endpoint answered ${res.status} without an ID token`,
        );
      try {
        await auth.principalOf(body.id_token);
      } catch (err) {
        if (err instanceof CredentialsError) throw new ApiError(401, 'UNAUTHENTICATED', err.message);
        throw err;
      }
      const cookie = { path: '/', sameSite: 'strict', secure: req.protocol === 'https' } as const;
      return reply
        .clearCookie(FLOW_COOKIE, { path: FLOW_PATH })
        .setCookie(SESSION_COOKIE, body.id_token, { ...cookie, httpOnly: true })
        .setCookie(CSRF_COOKIE, b64url(randomBytes(24)), { ...cookie, httpOnly: false })
        .redirect('/', 302);
    },
  );
};
