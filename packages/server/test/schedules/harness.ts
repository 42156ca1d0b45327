import type { startTestServer } from '../api/harness.js';

export type Server = Awaited<ReturnType<typeof startTestServer>>;
/** A JSON answer, read loosely: the assertions check its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers of many shapes, checked by expect
export type Json = Record<string, any>;

/** `call(method, url, body?)` on the server's API (app.inject): its status and JSON body. */
export function apiCaller(server: () => Server) {
  return async (method: string, url: string, payload?: unknown) => {
    const res = await server().app.inject({
      method: method as 'GET',
      url,
      ...(payload ? { payload: payload as object } : {}),
    });
    return { status: res.statusCode, body: res.json() as Json };
  };
}
