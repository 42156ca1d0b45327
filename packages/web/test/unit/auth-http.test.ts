import { afterEach, describe, expect, it, vi } from 'vitest';
import { CSRF_HEADER, csrfToken, send, UNAUTHENTICATED_EVENT } from '../../src/api/http.js';

// The UI's one HTTP path and auth: changes repeat the CSRF cookie in a header (the server refuses
// cookie-authenticated changes without it), and a 401 tells the UI to show its sign-in page.

afterEach(() => vi.unstubAllGlobals());

function stubBrowser(status: number) {
  const fetched: { method: string; headers: Record<string, string> }[] = [];
  const events = new EventTarget();
  const seen: string[] = [];
  events.addEventListener(UNAUTHENTICATED_EVENT, (e) => seen.push(e.type));
  vi.stubGlobal('document', { cookie: 'theme=dark; galley_csrf=abc%2D1' });
  vi.stubGlobal('window', events);
  vi.stubGlobal('fetch', async (_url: string, init: { method: string; headers: Record<string, string> }) => {
    fetched.push({ method: init.method, headers: init.headers });
    return new Response('{}', { status });
  });
  return { fetched, seen };
}

describe('auth in the UI’s HTTP client', () => {
  it('reads the CSRF cookie', () => {
    expect(csrfToken('a=1; galley_csrf=xyz; b=2')).toBe('xyz');
    expect(csrfToken('a=1')).toBeNull();
  });

  it('sends the CSRF header on changes only', async () => {
    const { fetched } = stubBrowser(200);
    await send('POST', '/api/v1/task', { body: {} });
    await send('GET', '/api/v1/history');
    expect(fetched[0]!.headers[CSRF_HEADER]).toBe('abc-1');
    expect(fetched[1]!.headers[CSRF_HEADER]).toBeUndefined();
  });

  it('asks for sign-in when the API answers 401, but not for the sign-in calls themselves', async () => {
    const { seen } = stubBrowser(401);
    await send('POST', '/api/v1/auth/session', { body: { token: 'x' } });
    expect(seen).toEqual([]);
    await send('GET', '/api/v1/history');
    expect(seen).toEqual([UNAUTHENTICATED_EVENT]);
  });
});
