import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servesPage, UI_PAGES } from '../../src/ui.js';
import { startTestServer } from './harness.js';

// Only the UI's pages answer with its HTML; an unknown API path is a JSON 404 whatever the client
// accepts (issue 11 item 3: `GET /pipelines/x/logs` with `Accept: application/json` was the UI's
// page with 200).

const APP_TSX = new URL('../../../web/src/app/App.tsx', import.meta.url);
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('which paths are the UI’s pages', () => {
  it("are the web app's routes, each served the UI whatever the request accepts", () => {
    const routes = [
      ...readFileSync(APP_TSX, 'utf8').matchAll(/<Route (?:index )?(?:path="([^"]*)" )?element/g),
    ]
      .map((m) => m[1])
      .filter((p): p is string => p !== undefined && p !== '*');
    expect(routes.length).toBeGreaterThan(8);
    for (const route of ['/', ...routes.map((r) => `/${r.replace(/:[A-Za-z]+/g, 'some-id')}`)]) {
      expect(servesPage('GET', route, 'application/json'), route).toBe(true);
      expect(
        UI_PAGES.some((page) => page.test(route)),
        route,
      ).toBe(true);
    }
  });

  it('leaves every unknown path under the API to a JSON 404, whatever the request accepts', () => {
    for (const path of [
      '/pipelines/x/logs',
      '/pipelines/x/instances',
      '/api/v1/nope',
      '/api',
      '/ping/x',
      '/metrics/x',
    ])
      for (const accept of [undefined, 'application/json', BROWSER])
        expect(servesPage('GET', path, accept), `${path} ${accept}`).toBe(false);
  });

  it("gives a browser the UI for any other path (the UI's own not-found page), others a JSON 404", () => {
    expect(servesPage('GET', '/no/such/page', BROWSER)).toBe(true);
    expect(servesPage('GET', '/no/such/page', 'application/json')).toBe(false);
    expect(servesPage('POST', '/runs', BROWSER)).toBe(false);
    expect(servesPage('GET', '/favicon.ico', BROWSER)).toBe(false);
  });
});

describe('unknown paths over the API', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.stop());

  it.each([
    ['/pipelines/x/logs', 'application/json'],
    ['/pipelines/x/logs', BROWSER],
    ['/pipelines/x/whatever/else', undefined],
    ['/api/v1/task/x/y/z', BROWSER],
    ['/api/v6/nothing', '*/*'],
  ])('GET %s (accept %s) is a JSON 404', async (url, accept) => {
    const res = await server.app.inject({ method: 'GET', url, headers: accept ? { accept } : {} });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ code: 'NOT_FOUND', message: expect.any(String) });
    expect(res.body).not.toContain(url);
  });

  it('serves the UI for its pages under /pipelines', async () => {
    for (const url of ['/pipelines', '/pipelines/new', '/pipelines/x/edit']) {
      const res = await server.app.inject({ method: 'GET', url, headers: { accept: BROWSER } });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toMatch(/text\/html/);
    }
  });
});
