/**
 * The agent's files API, for reading a sandbox's files (a task's stdout and stderr) as the
 * operator API serves them and transcript 15 recorded them:
 *
 *   GET /files/read?path=P&offset=N&length=M ──200──► {"data": "<text>", "offset": N}
 *     offset = -1 (or none): {"data": "", "offset": <size>};  offset past the end: data ""
 *     404 no such file, 400 a directory or bad parameters (text/plain reasons)
 *
 * `P` is a host path inside a sandbox or the virtual path of an executor's latest run,
 * `/frameworks/<framework>/executors/<executor>/runs/latest/<file>` (`executorSandboxPath`); a
 * command task's executor id is its task id, and a task of a task group has its own directory
 * under its executor's, `tasks/<task id>/`. The agent reads only the range asked for, so a read
 * costs O(length). Requests are GETs with `Accept: application/json` and the client's
 * `Authorization`, on undici's keep-alive pool.
 */
import { Buffer } from 'node:buffer';
import { Agent, type Dispatcher, request } from 'undici';
import type { BasicCredentials, TlsOptions } from '../http/client.js';
import { AgentFilesError, codeOfStatus } from './errors.js';

/** What `/files/read` answered. */
export interface FileChunk {
  /** The file's text from `offset` on: at most `length` bytes of it, empty at or past its end. */
  data: string;
  /** The byte offset `data` starts at; for a size query (`size`), the file's size in bytes. */
  offset: number;
}

/** A page of a file in bytes (`readPage`), for reading a growing log piece by piece. */
export interface FilePage {
  /** The bytes read, never ending inside a UTF-8 character unless the file does. */
  data: Buffer;
  /** Where the next page starts: the offset asked for plus `data.length`. */
  nextOffset: number;
  /** True when the read stopped short of `maxBytes`: it reached the end of the file as it was then. */
  end: boolean;
}

/** Options of `AgentFilesClient`. */
export interface AgentFilesClientOptions {
  /** The agent's base URL, `http://host:5051` (its path, if any, is ignored). */
  agent: string | URL;
  /** HTTP basic credentials, for agents started with `--authenticate_http_readonly`. */
  credentials?: BasicCredentials;
  /** A whole `Authorization` header value (e.g. `Bearer …`); used instead of `credentials`. */
  authorization?: string;
  /** TLS settings for an `https` agent; without them the process's defaults apply. */
  tls?: TlsOptions;
  /** Time allowed for each request, headers and body, in ms. Default 10 000. */
  timeoutMs?: number;
}

/** Per-request options. */
export interface FileRequestOptions {
  signal?: AbortSignal;
}

/** Default time allowed for one files API request (ms). */
export const DEFAULT_FILES_TIMEOUT_MS = 10_000;
const MAX_ERROR_TEXT = 4096;

/** The virtual path of `file` (e.g. `stdout`, `tasks/<id>/stderr`) in an executor's latest run. */
export function executorSandboxPath(frameworkId: string, executorId: string, file = ''): string {
  const base = `/frameworks/${frameworkId}/executors/${executorId}/runs/latest`;
  return file === '' ? base : `${base}/${file.replace(/^\/+/, '')}`;
}

/** Reads files of one agent's sandboxes through its files API. `close()` when done. */
export class AgentFilesClient {
  private readonly endpoint: URL;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  /** Own pool for TLS settings; otherwise undici's global one. */
  private readonly dispatcher: Agent | undefined;

  constructor(options: AgentFilesClientOptions) {
    const agent = new URL(options.agent);
    this.endpoint = new URL('/files/read', agent.origin);
    this.headers = { Accept: 'application/json' };
    const authorization = options.authorization ?? basicAuthorization(options.credentials);
    if (authorization !== undefined) this.headers['Authorization'] = authorization;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_FILES_TIMEOUT_MS;
    this.dispatcher = options.tls ? new Agent({ connect: { ...options.tls } }) : undefined;
  }

  /**
   * Reads up to `length` bytes of the file at `path` from byte `offset`. Resolves with the
   * agent's `{data, offset}`; rejects with `AgentFilesError` (`MESOS_AGENT_FILE_NOT_FOUND` for a
   * file that does not exist, …), or with a RangeError for a negative or fractional offset or
   * length.
   */
  async read(
    path: string,
    offset: number,
    length: number,
    options: FileRequestOptions = {},
  ): Promise<FileChunk> {
    if (!Number.isSafeInteger(offset) || offset < 0)
      throw new RangeError(`offset must be ≥ 0, got ${offset}`);
    if (!Number.isSafeInteger(length) || length < 0)
      throw new RangeError(`length must be ≥ 0, got ${length}`);
    return this.get(path, offset, length, options);
  }

  /** The size of the file at `path` in bytes (`offset=-1`). */
  async size(path: string, options: FileRequestOptions = {}): Promise<number> {
    return (await this.get(path, -1, undefined, options)).offset;
  }

  /**
   * Reads up to `maxBytes` bytes of a text file from `offset`, a character boundary. The agent
   * answers text, so a read that stops inside a multi-byte UTF-8 character ends in U+FFFD: unless
   * the read reached the end of the file, that character is left for the next page, so pages join
   * without damage. A page smaller than the character at `offset` is empty (and not the `end`):
   * pages of 4 bytes or more always make progress.
   */
  async readPage(
    path: string,
    offset: number,
    maxBytes: number,
    options: FileRequestOptions = {},
  ): Promise<FilePage> {
    const chunk = await this.read(path, offset, maxBytes, options);
    const full = Buffer.byteLength(chunk.data) >= maxBytes;
    const text = full && chunk.data.endsWith('\uFFFD') ? chunk.data.slice(0, -1) : chunk.data;
    const data = Buffer.from(text);
    return { data, nextOffset: offset + data.length, end: !full };
  }

  /** Closes the client's own connections (only made for TLS settings). */
  async close(): Promise<void> {
    await this.dispatcher?.close();
  }

  private async get(
    path: string,
    offset: number,
    length: number | undefined,
    options: FileRequestOptions,
  ): Promise<FileChunk> {
    const url = new URL(this.endpoint);
    url.searchParams.set('path', path);
    url.searchParams.set('offset', String(offset));
    if (length !== undefined) url.searchParams.set('length', String(length));
    const where = `${this.endpoint.origin}${this.endpoint.pathname}`;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let answer: Dispatcher.ResponseData;
    let body: string;
    try {
      answer = await request(url, {
        method: 'GET',
        headers: this.headers,
        signal,
        ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
      });
      body = await answer.body.text();
    } catch (cause) {
      const why = timeout.aborted
        ? `no answer within ${this.timeoutMs} ms`
        : options.signal?.aborted
          ? 'the request was aborted'
          : `the request failed: ${(cause as Error).message}`;
      throw new AgentFilesError('MESOS_AGENT_UNREACHABLE', `GET ${where}: ${why}`, where, undefined, {
        cause,
      });
    }
    const status = answer.statusCode;
    if (status !== 200) {
      const reason = body.slice(0, MAX_ERROR_TEXT).trim();
      const message = `the agent answered ${status} to GET ${where} for ${path}${reason ? `: ${reason}` : ''}`;
      throw new AgentFilesError(codeOfStatus(status), message, where, status);
    }
    return parseChunk(body, where, status);
  }
}

/** Creates a files API client for one agent. */
export function createAgentFilesClient(options: AgentFilesClientOptions): AgentFilesClient {
  return new AgentFilesClient(options);
}

function parseChunk(body: string, where: string, status: number): FileChunk {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (cause) {
    throw new AgentFilesError('MESOS_AGENT_FILES_FAILED', `GET ${where} answered no JSON`, where, status, {
      cause,
    });
  }
  const { data, offset } = (parsed ?? {}) as { data?: unknown; offset?: unknown };
  if (typeof data !== 'string' || typeof offset !== 'number') {
    throw new AgentFilesError(
      'MESOS_AGENT_FILES_FAILED',
      `GET ${where} answered JSON without {data: string, offset: number}`,
      where,
      status,
    );
  }
  return { data, offset };
}

function basicAuthorization(credentials: BasicCredentials | undefined): string | undefined {
  if (credentials === undefined) return undefined;
  const { principal, secret } = credentials;
  return `Basic ${Buffer.from(`${principal}:${secret}`).toString('base64')}`;
}
