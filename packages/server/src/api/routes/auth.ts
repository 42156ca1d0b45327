import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AuditEntry as AuditRecord } from '../../auth/audit.js';
import { CSRF_COOKIE, SESSION_COOKIE } from '../../auth/hooks.js';
import { CredentialsError } from '../../auth/jwt.js';
import { oidcLoginRoutes } from '../../auth/oidc-login.js';
import type { Principal } from '../../auth/policy.js';
import type { ApiToken } from '../../auth/tokens.js';
import type { RoutesOptions } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import {
  AuditList,
  AuditQuery,
  Session,
  SessionBody,
  TokenCreateBody,
  TokenCreated,
  TokenInfo,
  TokenList,
  WhoAmI,
} from '../schemas/auth.js';
import { ErrorBody, Id } from '../schemas/common.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function presentToken(t: ApiToken): TokenInfo {
  return {
    token_id: t.tokenId,
    name: t.name,
    subject: t.subject,
    groups: t.groups,
    created_at: new Date(t.createdAt).toISOString(),
    created_by: t.createdBy,
    expires_at: iso(t.expiresAt),
    revoked_at: iso(t.revokedAt),
  };
}

function presentEntry(e: AuditRecord) {
  const { auditId, at, ...rest } = e;
  return { audit_id: auditId, at: new Date(at).toISOString(), ...rest };
}

const Refusals = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

/**
 * Who may use the API: API tokens (create, list, revoke; admin), the UI's cookie session (sign in
 * with a token, sign out), who the caller is, and the audit log of every mutation (admin).
 */
export const authRoutes: FastifyPluginAsyncTypebox<RoutesOptions> = async (app, { deps, documented }) => {
  const auth = deps.auth;
  const hide = !documented;
  const tags = ['auth'];
  const whoami = (p: Principal | null) => ({
    mode: auth.settings.mode,
    subject: p?.subject ?? '',
    groups: p?.groups ?? [],
    via: p?.via ?? '',
  });

  app.post(
    '/auth/tokens',
    {
      config: { permission: 'admin' },
      schema: {
        tags,
        hide,
        summary: 'Create an API token (shown once; only its hash is kept)',
        body: TokenCreateBody,
        response: { 201: TokenCreated, ...Refusals },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const now = deps.clock.now();
      const { token, record } = await auth.tokens.create(
        {
          name: b.name,
          subject: b.subject ?? b.name,
          groups: [...new Set(b.groups ?? [])],
          expiresAt: b.expires_in_s === undefined ? null : now + b.expires_in_s * 1000,
          createdBy: req.principal?.subject ?? 'anonymous',
        },
        now,
      );
      return reply.status(201).send({ ...presentToken(record), token });
    },
  );

  app.get(
    '/auth/tokens',
    {
      config: { permission: 'admin' },
      schema: {
        tags,
        hide,
        summary: 'List API tokens (never the tokens themselves)',
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
            offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: TokenList, ...Refusals },
      },
    },
    async (req) => {
      const page = await auth.tokens.list(req.query.limit ?? 100, req.query.offset ?? 0);
      return { total: page.total, tokens: page.items.map(presentToken) };
    },
  );

  app.delete(
    '/auth/tokens/:token_id',
    {
      config: { permission: 'admin' },
      schema: {
        tags,
        hide,
        summary: 'Revoke an API token (refused at once on every replica)',
        params: Type.Object({ token_id: Id }),
        response: { 200: TokenInfo, ...Refusals },
      },
    },
    async (req) => {
      const t = await auth.tokens.revoke(req.params.token_id, deps.clock.now());
      if (!t) throw notFound('token', req.params.token_id);
      return presentToken(t);
    },
  );

  app.get(
    '/auth/whoami',
    {
      config: { permission: 'read' },
      schema: { tags, hide, summary: 'Who the caller is', response: { 200: WhoAmI, 401: ErrorBody } },
    },
    async (req) => whoami(req.principal),
  );

  app.post(
    '/auth/session',
    {
      config: { public: true },
      schema: {
        tags,
        hide,
        summary: 'Sign the UI in: sets an HttpOnly session cookie and a CSRF cookie',
        body: SessionBody,
        response: { 200: Session, 400: ErrorBody, 401: ErrorBody },
      },
    },
    async (req, reply) => {
      let principal: Principal;
      try {
        principal = await auth.principalOf(req.body.token);
      } catch (err) {
        if (!(err instanceof CredentialsError)) throw err;
        void reply.header('www-authenticate', 'Bearer realm="galley"');
        throw new ApiError(401, 'UNAUTHENTICATED', err.message);
      }
      const csrf = randomBytes(24).toString('base64url');
      const secure = req.protocol === 'https';
      const cookie = { path: '/', sameSite: 'strict', secure } as const;
      void reply
        .setCookie(SESSION_COOKIE, req.body.token, { ...cookie, httpOnly: true })
        .setCookie(CSRF_COOKIE, csrf, { ...cookie, httpOnly: false });
      return { ...whoami(principal), csrf };
    },
  );

  app.delete(
    '/auth/session',
    {
      config: { public: true },
      schema: {
        tags,
        hide,
        summary: 'Sign the UI out: clears the session cookies (204)',
        response: { 204: Type.Null() },
      },
    },
    async (_req, reply) =>
      reply
        .clearCookie(SESSION_COOKIE, { path: '/' })
        .clearCookie(CSRF_COOKIE, { path: '/' })
        .status(204)
        .send(null),
  );

  await app.register(oidcLoginRoutes, { deps, documented });

  app.get(
    '/audit',
    {
      config: { permission: 'admin' },
      schema: {
        tags,
        hide,
        summary: 'The audit log: every mutation (who, what, when, from where, the answer), newest first',
        querystring: AuditQuery,
        response: { 200: AuditList, ...Refusals },
      },
    },
    async (req) => {
      const q = req.query;
      const limit = q.limit ?? 100;
      const offset = q.offset ?? 0;
      const page = await auth.audit.list({
        ...(q.subject !== undefined ? { subject: q.subject } : {}),
        ...(q.method !== undefined ? { method: q.method } : {}),
        ...(q.status !== undefined ? { status: q.status } : {}),
        ...(q.since !== undefined ? { since: Date.parse(q.since) } : {}),
        ...(q.until !== undefined ? { until: Date.parse(q.until) } : {}),
        limit,
        offset,
      });
      return { total: page.total, limit, offset, entries: page.items.map(presentEntry) };
    },
  );
};
