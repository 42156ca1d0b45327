import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

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
 * Serves the web UI at `/`: files from `dist`, looked up on disk at each request (so a rebuilt
 * UI, with new hashed file names, is served without a restart), and `index.html` for any other
 * GET of a page (not under `/api`, not an asset) so client-side routes survive a reload. Without
 * a build it serves a page that says so. API 404s stay JSON.
 */
export async function uiPlugin(app: FastifyInstance, options: { dist: string | null }): Promise<void> {
  const { dist } = options;
  if (dist)
    await app.register(fastifyStatic, { root: dist, prefix: '/', wildcard: true, index: ['index.html'] });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    const wantsPage =
      (req.method === 'GET' || req.method === 'HEAD') &&
      !path.startsWith('/api') &&
      path !== '/metrics' &&
      !isAssetPath(path);
    if (!wantsPage) {
      return reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${req.method} ${path}` });
    }
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
