import type { ErrorBody } from '../api/schemas/index.js';

/** Errors of the CLI, with the exit code the process should end with. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Exit codes: 1 the server refused or failed the request, 2 bad usage, 3 server not reachable. */
export const EXIT = { API: 1, USAGE: 2, UNREACHABLE: 3 } as const;

/** A small HTTP client of the Galley API. `baseUrl` like http://127.0.0.1:1424; `token` sent as `Authorization: Bearer`. */
export class GalleyClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | null = null,
  ) {}

  /** Sends a request to `/api/v1{path}`; answers the parsed JSON, or throws CliError with the server's message. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(method, path, body);
    const text = await res.text();
    if (!res.ok) throw apiError(res.status, text);
    return JSON.parse(text) as T;
  }

  /** Sends a request and answers the raw response (for streams); non-2xx throws CliError. */
  async raw(method: string, path: string, body?: unknown): Promise<Response> {
    const res = await this.fetch(method, path, body);
    if (!res.ok) throw apiError(res.status, await res.text());
    return res;
  }

  private async fetch(method: string, path: string, body?: unknown): Promise<Response> {
    const url = `${this.baseUrl.replace(/\/$/, '')}/api/v1${path}`;
    try {
      const headers: Record<string, string> = this.token ? { authorization: `Bearer ${this.token}` } : {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      return await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      const c = (err as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
      const cause = c?.code ?? c?.errors?.[0]?.code ?? c?.message ?? (err as Error).message;
      throw new CliError(
        `cannot reach the Galley server at ${this.baseUrl} (${cause}); is \`galley serve\` running? (set GALLEY_URL or --url)`,
        EXIT.UNREACHABLE,
        'UNREACHABLE',
        { cause: err },
      );
    }
  }
}

function apiError(status: number, text: string): CliError {
  let message = `the server answered ${status}`;
  let code = `HTTP_${status}`;
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    if (body.message) message = body.message;
    if (body.code) code = body.code;
    if (body.fields)
      message += Object.entries(body.fields)
        .map(([k, v]) => `\n  ${k}: ${v}`)
        .join('');
  } catch {
    if (text) message += `: ${text.slice(0, 200)}`;
  }
  return new CliError(message, EXIT.API, code);
}
