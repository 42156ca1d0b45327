import type { SourceAuth } from '@galley/core';

/**
 * HTTP for metric sources and drains: a bounded time and body, credentials resolved from the
 * server's environment by name (the value never reaches a log, a record or an answer: errors
 * name the URL's origin and path only, never its query or credentials).
 */

/** Most bytes read of a metric source's answer. */
const MAX_BODY = 4 * 1024 * 1024;

/** The Authorization header of `auth`, from the server's environment; throws naming a missing variable. */
export function authHeader(
  auth: SourceAuth | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  if (!auth) return {};
  const read = (name: string): string => {
    const v = env[name];
    if (v === undefined)
      throw new Error(`environment variable ${name} (for the source's credentials) is not set`);
    return v;
  };
  if (auth.token_env !== undefined) return { authorization: `Bearer ${read(auth.token_env)}` };
  if (auth.username !== undefined) {
    const password = auth.password_env !== undefined ? read(auth.password_env) : '';
    return { authorization: `Basic ${Buffer.from(`${auth.username}:${password}`).toString('base64')}` };
  }
  return {};
}

/** Where a request went, for messages: origin and path (no query, no user info). */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return 'an invalid URL';
  }
}

/** A request with a deadline; answers status and body text (at most MAX_BODY); throws a message fit for a record. */
export async function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs: number },
): Promise<{ status: number; text: string }> {
  const method = init.method ?? 'GET';
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: init.headers ?? {},
      ...(init.body !== undefined ? { body: init.body } : {}),
      signal: AbortSignal.timeout(init.timeoutMs),
      redirect: 'error',
    });
  } catch (err) {
    const why =
      err instanceof Error && err.name === 'TimeoutError'
        ? `no answer in ${init.timeoutMs} ms`
        : causeOf(err);
    throw new Error(`${method} ${describeUrl(url)}: ${why}`);
  }
  const length = Number(res.headers.get('content-length') ?? 0);
  if (length > MAX_BODY) {
    await res.body?.cancel();
    throw new Error(`${method} ${describeUrl(url)}: answer larger than ${MAX_BODY} bytes`);
  }
  const text = await res.text();
  if (text.length > MAX_BODY)
    throw new Error(`${method} ${describeUrl(url)}: answer larger than ${MAX_BODY} bytes`);
  return { status: res.status, text };
}

/** A request that must answer 2xx; throws `GET <url>: <status>` otherwise. */
export async function requestOk(url: string, init: Parameters<typeof request>[1]): Promise<string> {
  const { status, text } = await request(url, init);
  if (status < 200 || status > 299)
    throw new Error(`${init.method ?? 'GET'} ${describeUrl(url)}: HTTP ${status}`);
  return text;
}

function causeOf(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const code = (cause as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return cause instanceof Error ? cause.message : String(cause);
}
