import { isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AuthSettings, LOOPBACK_HOSTS } from '../config/auth-settings.js';

/** Methods that change something: the ones the Origin check, CSRF and the audit apply to. */
export const isMutating = (method: string): boolean => !['GET', 'HEAD', 'OPTIONS'].includes(method);

/** The UI's policy: nothing inline, nothing from elsewhere, never in a frame. */
export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The API docs' (Swagger UI) policy: its styles are inline; still no script from elsewhere, no frame. */
export const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The host name of a Host header (`[::1]:1424` → `[::1]`, `Example.com:80` → `example.com`). */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const cut = h.lastIndexOf(':');
  return cut === -1 ? h : h.slice(0, cut);
}

/**
 * Whether a Host header names this server: a loopback name, an IP address (a DNS-rebinding page
 * always comes with a name of its own), the listen host, the advertised URL's host, or one of
 * `--allowed-hosts` (`*` = any).
 */
export function hostAllowed(header: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (header === undefined) return true;
  const name = hostName(header);
  if (allowed.has('*') || allowed.has(name)) return true;
  return isIP(name.replace(/^\[(.*)\]$/, '$1')) !== 0;
}

/** The names the Host header may carry (see hostAllowed). */
export function allowedHostNames(
  auth: AuthSettings,
  listenHost: string,
  advertiseUrl: string | null,
): Set<string> {
  const names = new Set<string>([...LOOPBACK_HOSTS, ...auth.allowedHosts, listenHost.toLowerCase()]);
  if (advertiseUrl) {
    try {
      names.add(new URL(advertiseUrl).hostname.toLowerCase());
    } catch {
      // not a URL: nothing to add
    }
  }
  return names;
}

function refuse(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.status(status).send({ code, message });
}

/**
 * Browser safety, in every auth mode: a foreign Host is refused (421: DNS rebinding), a mutating
 * request from another origin is refused (403) unless `--cors-origins` lists it; CORS preflights of
 * listed origins are answered; HTML pages get a strict Content-Security-Policy; every answer gets
 * `nosniff`, `X-Frame-Options: DENY` and `Referrer-Policy: no-referrer`.
 */
export function installBrowserSafety(
  app: FastifyInstance,
  auth: AuthSettings,
  listenHost: string,
  advertiseUrl: string | null,
): void {
  const hosts = allowedHostNames(auth, listenHost, advertiseUrl);
  const cors = new Set(auth.corsOrigins);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!hostAllowed(req.headers.host, hosts))
      return refuse(
        reply,
        421,
        'HOST_NOT_ALLOWED',
        `this server does not answer to the host "${hostName(req.headers.host ?? '')}"; add it to --allowed-hosts to allow it`,
      );
    const origin = req.headers.origin;
    const listed = origin !== undefined && cors.has(origin);
    if (listed) void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
    if (req.method === 'OPTIONS' && listed && req.headers['access-control-request-method'])
      return reply
        .status(204)
        .header('access-control-allow-methods', 'GET, HEAD, POST, PUT, PATCH, DELETE')
        .header('access-control-allow-headers', 'authorization, content-type, x-galley-csrf')
        .header('access-control-max-age', '600')
        .send();
    if (!isMutating(req.method) || listed) return;
    const crossSite = req.headers['sec-fetch-site'] === 'cross-site';
    if (origin === undefined ? crossSite : !sameOrigin(origin, req.headers.host))
      return refuse(
        reply,
        403,
        'CROSS_ORIGIN',
        `a ${req.method} from another origin (${origin ?? 'cross-site'}) is refused; list it in --cors-origins to allow it`,
      );
  });
  app.addHook('onSend', async (req, reply, payload) => {
    void reply
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer');
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('text/html'))
      void reply.header('content-security-policy', req.url.startsWith('/api/docs') ? DOCS_CSP : UI_CSP);
    return payload;
  });
}

/** Whether an Origin header names the same host and port as the Host header (the page is ours). */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    const o = new URL(origin);
    return o.host === new URL(`${o.protocol}//${host}`).host;
  } catch {
    return false;
  }
}
