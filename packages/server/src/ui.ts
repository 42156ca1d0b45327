import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { NO_ROUTE } from './api/errors.js';

/**
 * Where the built web UI is: `@galley/web`'s `dist/` (resolved from the workspace), or null when
 * the package or its build is missing.
 */
export function findWebDist(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const dist = join(dirname(require.resolve('@galley/web/package.json')), 'dist');
    return existsSync(join(dist, 'index.html')) ? dist : null;
  } catch {
    return null;
  }
}

const NOT_BUILT = `<!doctype html>
<html><head><meta charset="utf-8"><title>Galley</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto">
<h1>Galley</h1>
<p>The web UI is not built. Run <code>npm run build</code> (it builds <code>packages/web</code>) and reload.</p>
<p>The API is here: <a href="/api/docs">/api/docs</a> · <a href="/api/v1/history">/api/v1/history</a>.</p>
</body></html>
`;

/**
 * A path that names a file of the build rather than a page of the UI: anything under `/assets/`
 * (Vite's hashed bundles) or a file at the top level (`/favicon.ico`). A missing one is a 404:
 * answering it with `index.html` would hand a browser HTML where it expects a script.
 */
export function isAssetPath(path: string): boolean {
  return path.startsWith('/assets/') || /^\/[^/]+\.[A-Za-z0-9]+$/.test(path);
}

/**
 * The web UI's pages (packages/web/src/app/App.tsx): served its `index.html` whatever the request
 * accepts. A test keeps this list and App.tsx's routes equal.
 */
export const UI_PAGES: readonly RegExp[] = [
  /^\/$/,
  /^\/runs\/?$/,
  /^\/runs\/[^/]+\/?$/,
  /^\/tasks\/?$/,
  /^\/tasks\/[^/]+(\/edit|\/run)?\/?$/,
  /^\/pipelines\/?$/,
  /^\/pipelines\/[^/]+(\/edit)?\/?$/,
  /^\/capacity\/?$/,
  /^\/schedules\/?$/,
  /^\/queues\/?$/,
];

/** Paths of the API's namespaces: an unknown path under one is a JSON 404, never a page. */
const API_PATHS = /^\/(api|pipelines|ping|metrics|health)(\/|$)/;

/**
 * Whether a request no route took gets the UI's `index.html`: a GET (or HEAD) of one of the UI's
 * pages, whatever it accepts; or a browser's GET (it accepts text/html) of any other path outside
 * the API's namespaces and not naming a file, so the UI shows its own "not found" page. Anything
 * else is a JSON 404: an unknown API path never answers with HTML.
 */
export function servesPage(method: string, path: string, accept: string | undefined): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (UI_PAGES.some((page) => page.test(path))) return true;
  return !API_PATHS.test(path) && !isAssetPath(path) && (accept ?? '').includes('text/html');
}

/**
 * Serves the web UI at `/`: files from `dist`, looked up on disk at each request (so a rebuilt
 * UI, with new hashed file names, is served without a restart), and `index.html` for the UI's
 * pages (see servesPage) so client-side routes survive a reload. Without a build it serves a page
 * that says so. Every other unknown path is a JSON 404 that does not repeat the path.
 */
export async function uiPlugin(app: FastifyInstance, options: { dist: string | null }): Promise<void> {
  const { dist } = options;
  if (dist)
    await app.register(fastifyStatic, { root: dist, prefix: '/', wildcard: true, index: ['index.html'] });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    if (!servesPage(req.method, path, req.headers.accept))
      return reply.status(NO_ROUTE.status).send(NO_ROUTE.body);
    if (dist && existsSync(join(dist, 'index.html')))
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-cache')
        .sendFile('index.html');
    return reply.type('text/html; charset=utf-8').send(NOT_BUILT);
  });
}

// Not encapsulated (what fastify-plugin does): the not-found handler must be the root's, so that
// every unknown path, API or page, goes through it.
Object.assign(uiPlugin, { [Symbol.for('skip-override')]: true });
