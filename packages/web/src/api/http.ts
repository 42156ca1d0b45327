/**
 * The one way the UI talks to the Galley server: relative URLs under `/api`, JSON in and out,
 * and every failure turned into an ApiError with a stable `code`.
 */

/** Field-level messages of a validation error: field path (e.g. `alias`, `env.0.name`) → message. */
export type FieldErrors = Record<string, string>;

/**
 * A request that did not succeed. `status` is the HTTP status, or 0 when the server could not be
 * reached at all (`code` is then `UNREACHABLE`). `code` is the server's stable error code
 * (`{code, message, fields}` answers), or `HTTP_<status>` when the answer had none. `fields` maps
 * field names to messages for validation errors; empty when the server named no field.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldErrors = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** True when the server answered 404 (the thing, or the whole API, does not exist). */
  get isNotFound(): boolean {
    return this.status === 404;
  }

  /** True when no answer came back (server down, network gone). */
  get isUnreachable(): boolean {
    return this.status === 0;
  }
}

/** Query parameters; arrays repeat the key, `undefined`/`null`/'' values are left out. */
export type Query = Record<string, string | number | boolean | readonly string[] | undefined | null>;

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** Builds `path?query` with repeated keys for arrays, skipping empty values. */
export function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const v of value as readonly string[]) params.append(key, v);
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

function asFieldErrors(value: unknown): FieldErrors {
  const out: FieldErrors = {};
  if (Array.isArray(value)) {
    // `[{field|path|name, message}]`
    for (const item of value) {
      if (!item || typeof item !== 'object') continue;
      const rec = item as Record<string, unknown>;
      const key = rec['field'] ?? rec['path'] ?? rec['name'];
      const message = rec['message'];
      if (typeof key === 'string' && typeof message === 'string') out[normalizeFieldPath(key)] = message;
    }
  } else if (value && typeof value === 'object') {
    for (const [key, message] of Object.entries(value)) {
      if (typeof message === 'string') out[normalizeFieldPath(key)] = message;
      else if (Array.isArray(message) && typeof message[0] === 'string')
        out[normalizeFieldPath(key)] = message[0];
    }
  }
  return out;
}

/** `/env/0/name` and `body.env[0].name` both become `env.0.name`. */
export function normalizeFieldPath(path: string): string {
  return path
    .replace(/^\/?(body[./])?/, '')
    .replace(/\[(\d+)\]/g, '.$1')
    .replace(/\//g, '.')
    .replace(/^\./, '');
}

/** Turns a non-2xx answer into an ApiError, reading `{code, message, fields}` when present. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let code = `HTTP_${response.status}`;
  let message = response.statusText || `HTTP ${response.status}`;
  let fields: FieldErrors = {};
  const text = await response.text().catch(() => '');
  if (text) {
    try {
      const body = JSON.parse(text) as Record<string, unknown>;
      if (typeof body['code'] === 'string') code = body['code'];
      if (typeof body['message'] === 'string') message = body['message'];
      else if (typeof body['error'] === 'string') message = body['error'];
      fields = asFieldErrors(body['fields']);
    } catch {
      message = text.slice(0, 300);
    }
  }
  return new ApiError(response.status, code, message, fields);
}

/** The event fired when the server answers 401: the UI shows its sign-in page. */
export const UNAUTHENTICATED_EVENT = 'galley:unauthenticated';

/** The header a change made with the session cookie repeats the CSRF cookie in (double submit). */
export const CSRF_HEADER = 'x-galley-csrf';

/** The CSRF cookie's value (set when the UI signed in), or null. */
export function csrfToken(
  cookies: string = typeof document === 'undefined' ? '' : document.cookie,
): string | null {
  const m = /(?:^|;\s*)galley_csrf=([^;]*)/.exec(cookies);
  return m ? decodeURIComponent(m[1]!) : null;
}

/**
 * Fetches, throwing ApiError(0, 'UNREACHABLE') when no answer came (an abort is rethrown as is).
 * A change (POST, PUT, PATCH, DELETE) carries the CSRF header; a 401 outside `/api/v1/auth/`
 * fires UNAUTHENTICATED_EVENT so the UI shows its sign-in page.
 */
export async function send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  const csrf = method === 'GET' || method === 'HEAD' ? null : csrfToken();
  if (csrf) headers[CSRF_HEADER] = csrf;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  try {
    const response = await fetch(withQuery(path, options.query), {
      method,
      headers,
      body,
      signal: options.signal,
    });
    if (response.status === 401 && !path.startsWith('/api/v1/auth/') && typeof window !== 'undefined')
      window.dispatchEvent(new Event(UNAUTHENTICATED_EVENT));
    return response;
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw new ApiError(0, 'UNREACHABLE', 'The Galley server cannot be reached.', {}, { cause: err });
  }
}

/**
 * Sends a request and answers its JSON body (undefined for 204/empty answers). Throws ApiError for
 * any non-2xx answer or when the server is unreachable.
 */
export async function requestJson<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(method, path, options);
  if (!response.ok) throw await errorFromResponse(response);
  const text = await response.text();
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new ApiError(
      response.status,
      'BAD_RESPONSE',
      'The server answered something that is not JSON.',
      {},
      {
        cause: err,
      },
    );
  }
}

/** Whether an error is the abort of a request the UI itself cancelled (not worth showing). */
export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}
