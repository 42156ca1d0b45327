import { createHash } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../api/errors.js';
import type { Store } from '../store/store.js';
import { auditEntryOf } from './audit-rows.js';
import { servesPage } from '../ui.js';
import { installBrowserSafety, isMutating } from './browser.js';
import { CredentialsError } from './jwt.js';
import { denied, type Permission, type Principal, type Resource } from './policy.js';
import { ANONYMOUS, type AuthService } from './service.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route needs (absent: `read` for GET/HEAD, `admin` otherwise). */
    permission?: Permission;
    /** No credentials needed: signing in and out, health. */
    public?: boolean;
  }
  interface FastifyRequest {
    /** Who makes the request; null on public paths without credentials. */
    principal: Principal | null;
    /** Its audit entry was stored with the change it made (an execute's run insert): not again. */
    auditStored: boolean;
  }
}

/** The cookie of a UI session (HttpOnly) and its CSRF companion (readable by the UI's script). */
export const SESSION_COOKIE = 'galley_session';
export const CSRF_COOKIE = 'galley_csrf';
/** The header a cookie-authenticated mutation must repeat the CSRF cookie in (double submit). */
export const CSRF_HEADER = 'x-galley-csrf';

/** Paths anyone may reach: health, the API docs, the UI's files and pages. */
function isPublic(req: FastifyRequest): boolean {
  if (req.routeOptions.config.public) return true;
  const url = req.routeOptions.url;
  const path = req.url.split('?')[0] ?? '/';
  if (url === undefined || url === '/*') return true; // no route (404s, UI pages) or the UI's files
  if (
    url === '/health' ||
    url === '/ping' ||
    path === '/api/openapi.json' ||
    path === '/api/docs' ||
    path.startsWith('/api/docs/')
  )
    return true;
  return servesPage(req.method, path, req.headers.accept);
}

/** The bearer token of a request and where it came from. */
function credentialsOf(req: FastifyRequest): { token: string; cookie: boolean } | null {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m ? { token: m[1]!, cookie: false } : { token: '', cookie: false };
  }
  const cookie = req.cookies?.[SESSION_COOKIE];
  return cookie ? { token: cookie, cookie: true } : null;
}

/** The rate limit's and stream cap's key of a request before it is authenticated: its credentials, else its address. */
export function limitKey(req: FastifyRequest): string {
  const c = credentialsOf(req);
  return c?.token
    ? `cred:${createHash('sha256').update(c.token).digest('hex').slice(0, 32)}`
    : `ip:${req.ip}`;
}

const unauthorized = (reply: FastifyReply, message: string) => {
  void reply.header('www-authenticate', 'Bearer realm="galley"');
  return new ApiError(401, 'UNAUTHENTICATED', message);
};

/** The groups (and run owner) of what a request acts on, from its path ids and its body's `group_name`. */
async function resourceOf(req: FastifyRequest, store: Store): Promise<Resource> {
  const params = (req.params ?? {}) as Record<string, string | undefined>;
  const groups: string[] = [];
  let owner: string | undefined;
  if (params['run_id']) {
    const run = await store.getRun(params['run_id']);
    if (run) {
      groups.push(run.groupName);
      owner = run.ownerId;
    }
  } else if (params['definition_id']) {
    const def = await store.getDefinition(params['definition_id']);
    if (def) groups.push(def.groupName);
  } else if (params['alias']) {
    const def = await store.getDefinitionByAlias(params['alias']);
    if (def) groups.push(def.groupName);
  }
  const body = req.body as Record<string, unknown> | null | undefined;
  if (body && typeof body === 'object' && typeof body['group_name'] === 'string')
    groups.push(body['group_name']);
  return owner === undefined ? { groups } : { groups, owner };
}

/**
 * Authentication, authorization, audit, browser safety and rate limits as hooks over every route
 * (install before the routes). `onRequest`: the Host/Origin checks, then who the request is (an
 * `Authorization: Bearer` token, or the UI's session cookie with its CSRF header on mutations) —
 * 401 without valid credentials, except on public paths. `preValidation`: the route's
 * `config.permission` on the groups of what it acts on — 403 naming the permission and group.
 * `preHandler`: a run's owner is the principal (Flotilla's `run_tags.owner_id` kept as the env
 * `GALLEY_RUN_TAGS_OWNER_ID`). `onResponse`: every mutation is written to the audit log (unless
 * the route stored its entry with its change: `auditStored`).
 */
export async function installAuth(
  app: FastifyInstance,
  options: { auth: AuthService; store: Store; listenHost: string; advertiseUrl: string | null },
): Promise<void> {
  const { auth, store } = options;
  const settings = auth.settings;
  installBrowserSafety(app, settings, options.listenHost, options.advertiseUrl);
  await app.register(fastifyCookie);
  // With auth none the server is on loopback: every client is a local process, none is limited.
  if (settings.rateLimitPerMinute > 0 && auth.enabled)
    await app.register(rateLimit, {
      global: true,
      max: settings.rateLimitPerMinute,
      timeWindow: 60_000,
      keyGenerator: limitKey,
      allowList: (req) => req.routeOptions.url === '/health',
      errorResponseBuilder: (_req, ctx) =>
        new ApiError(
          429,
          'RATE_LIMITED',
          `more than ${ctx.max} requests a minute with these credentials (or from this address); try again in ${ctx.after}`,
        ),
    });
  app.decorateRequest('principal', null);
  app.decorateRequest('auditStored', false);

  app.addHook('onRequest', async (req, reply) => {
    if (!auth.enabled) {
      req.principal = ANONYMOUS;
      return;
    }
    const credentials = credentialsOf(req);
    const open = isPublic(req);
    if (!credentials) {
      if (open) return;
      throw unauthorized(reply, 'this request needs credentials: an `Authorization: Bearer <token>` header');
    }
    try {
      req.principal = await auth.principalOf(credentials.token);
    } catch (err) {
      if (!(err instanceof CredentialsError)) throw err;
      if (open) return;
      throw unauthorized(reply, err.message);
    }
    if (credentials.cookie && isMutating(req.method) && !open) {
      const sent = req.headers[CSRF_HEADER];
      const expected = req.cookies[CSRF_COOKIE];
      if (!expected || sent !== expected)
        throw new ApiError(
          403,
          'CSRF',
          `a change made with the session cookie needs the ${CSRF_HEADER} header (the ${CSRF_COOKIE} cookie's value)`,
        );
    }
  });

  app.addHook('preValidation', async (req) => {
    const p = req.principal;
    if (!p || p.via === 'none') return;
    const permission =
      req.routeOptions.config.permission ??
      (req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'admin');
    const resource = await resourceOf(req, store);
    const group = denied(auth.policy, p, permission, resource);
    if (group !== null)
      throw new ApiError(
        403,
        'FORBIDDEN',
        `${p.subject} may not do this: it needs permission "${permission}" ${group === '*' ? 'on every group' : `on group "${group}"`}`,
      );
  });

  app.addHook('preHandler', async (req) => {
    const p = req.principal;
    if (!p || p.via === 'none' || req.routeOptions.config.permission !== 'run') return;
    const body = req.body as
      { run_tags?: { owner_id?: string }; env?: { name: string; value: string }[] } | undefined;
    if (!body?.run_tags) return;
    const given = body.run_tags.owner_id;
    body.run_tags.owner_id = p.subject;
    if (given && given !== p.subject)
      body.env = [...(body.env ?? []), { name: 'GALLEY_RUN_TAGS_OWNER_ID', value: given }];
  });

  app.addHook('onResponse', async (req, reply) => {
    if (!isMutating(req.method) || req.auditStored) return;
    await auth.audit
      .write(auditEntryOf(req, reply.statusCode, auth.clock.now()))
      .catch((err: unknown) =>
        req.log.warn({ err: (err as Error).message }, 'audit: the entry could not be written'),
      );
  });
}
