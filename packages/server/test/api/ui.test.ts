import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from './harness.js';

// The UI's files are looked up at each request: a UI rebuilt while the server runs (new hashed
// bundle names, the old ones gone) is served at once, without a restart.

/** Writes a build like Vite's: index.html naming its hashed bundle. */
async function build(dist: string, hash: string): Promise<void> {
  await rm(dist, { recursive: true, force: true });
  await mkdir(join(dist, 'assets'), { recursive: true });
  await writeFile(
    join(dist, 'index.html'),
    `<!doctype html><html><head><script type="module" src="/assets/index-${hash}.js"></script></head><body>build ${hash}</body></html>`,
  );
  await writeFile(join(dist, 'assets', `index-${hash}.js`), `console.log('${hash}');\n`);
}

describe('the web UI', () => {
  let dir: string;
  let dist: string;
  let server: Awaited<ReturnType<typeof startTestServer>>;
  const get = (url: string, method: 'GET' | 'HEAD' | 'POST' = 'GET') => server.app.inject({ method, url });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'galley-ui-'));
    dist = join(dir, 'dist');
    await build(dist, 'aaa111');
    server = await startTestServer({ webDist: dist });
  });
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves a rebuilt UI without a restart: new bundles, new index, client routes', async () => {
    expect((await get('/')).body).toContain('build aaa111');
    const first = await get('/assets/index-aaa111.js');
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toMatch(/javascript/);

    await build(dist, 'bbb222'); // the old bundle is gone, as after `vite build`
    const bundle = await get('/assets/index-bbb222.js');
    expect(bundle.statusCode).toBe(200);
    expect(bundle.headers['content-type']).toMatch(/javascript/);
    expect(bundle.body).toBe("console.log('bbb222');\n");
    for (const page of ['/', '/runs', '/runs/some-run', '/tasks/report.v2/edit']) {
      const res = await get(page);
      expect(res.statusCode, page).toBe(200);
      expect(res.headers['content-type'], page).toMatch(/text\/html/);
      expect(res.body, page).toContain('/assets/index-bbb222.js');
    }
    expect((await get('/runs/some-run', 'HEAD')).statusCode).toBe(200);
  });

  it('answers a missing asset with a 404, never with the page, and keeps API 404s JSON', async () => {
    const stale = await get('/assets/index-aaa111.js');
    expect(stale.statusCode).toBe(404);
    expect(stale.headers['content-type']).toMatch(/json/);
    expect((await get('/favicon.ico')).statusCode).toBe(404);
    const api = await get('/api/v1/no-such-route/at/all');
    expect(api.statusCode).toBe(404);
    expect(api.json()).toMatchObject({ code: 'NOT_FOUND' });
    const post = await get('/runs', 'POST');
    expect(post.statusCode).toBe(404);
    expect(post.json()).toMatchObject({ code: 'NOT_FOUND' });
    // The API itself is untouched by the UI's catch-all.
    expect((await get('/api/v1/history?limit=0')).json()).toMatchObject({ total: 0 });
  });

  it('says the UI is not built while a rebuild has emptied the directory', async () => {
    await rm(dist, { recursive: true, force: true });
    const page = await get('/runs');
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/not built/);
    await build(dist, 'ccc333');
    expect((await get('/runs')).body).toContain('build ccc333');
  });
});
