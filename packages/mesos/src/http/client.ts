/**
 * The HTTP transport to a Mesos master or agent (spec §0, §1.1):
 * - every request is `POST` with `Content-Type: application/json` (exactly, no charset) and
 *   `Accept: application/json`, plus HTTP basic auth when credentials are configured;
 * - calls go through undici's keep-alive pools (one per origin, `maxSockets` connections) and
 *   time out after `requestTimeoutMs` (./call.ts); undici, not `node:http`, because a busy
 *   scheduler makes one call per status update and undici's dispatcher costs about half as much
 *   CPU and garbage per call (packages/mesos/README.md, bench:sdk);
 * - a request marked `pipelined` (ACKNOWLEDGE: sending it twice is harmless) may go out on a
 *   connection that still awaits answers, up to `PIPELINING` at once; the others only on an idle
 *   connection (undici never pipelines a request that is not idempotent). A master then reads
 *   several calls at a time and answers them in one write, and the client reads the answers in
 *   one read, instead of a write and a read on each side per call. If the connection breaks,
 *   undici fails the first call waiting on it and sends the ones behind it again;
 * - the calls made in one event-loop turn leave in one write per connection (./write-batch.ts);
 * - a stream (SUBSCRIBE) gets its own fresh `node:http` connection, with the timeout applying
 *   only until the response headers arrive; afterwards it has no idle timeout (heartbeats are
 *   watched by the session instead);
 * - non-2xx answers become `MesosHttpError`s (see ./errors.ts), network failures
 *   `MesosConnectionError`s. Credentials never appear in errors.
 */
import { Buffer } from 'node:buffer';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Agent as CallAgent } from 'undici';
import { CallHandler, redact, type MesosResponse } from './call.js';
import { MesosConnectionError, MesosHttpError } from './errors.js';
import { resolveLeaderLocation } from './location.js';
import { WriteBatcher } from './write-batch.js';

export type { MesosResponse } from './call.js';

/** TLS settings for `https` masters; passed to `https.Agent`. */
export interface TlsOptions {
  /** Trusted CA certificate(s), PEM. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Client certificate, PEM. */
  cert?: string | Buffer;
  /** Client key, PEM. */
  key?: string | Buffer;
  /** Verify the server certificate (default true). */
  rejectUnauthorized?: boolean;
}

/** HTTP basic credentials: the framework principal and its secret. */
export interface BasicCredentials {
  principal: string;
  secret: string;
}

/** Options of `MesosHttpClient`. */
export interface MesosHttpClientOptions {
  credentials?: BasicCredentials;
  tls?: TlsOptions;
  /** Time allowed for a call (and for a stream's response headers), in ms. Default 75 000. */
  requestTimeoutMs?: number;
  /** Most concurrent call connections per master. Default 32. */
  maxSockets?: number;
  /** Extra headers sent on every request (e.g. `Authorization: Bearer …` for executors). */
  headers?: Record<string, string>;
}

/** An open streaming answer (status 200). Read `body`; call `close()` to drop the connection. */
export interface MesosStreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  /** Destroys the connection; idempotent. */
  close(): void;
}

/** Per-request options. */
export interface RequestOptions {
  /** Extra headers for this request (e.g. `Mesos-Stream-Id`). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Overrides the client's `requestTimeoutMs` for this request. */
  timeoutMs?: number;
  /**
   * The call may be sent twice without harm (an ACKNOWLEDGE): it may be pipelined behind other
   * calls on a keep-alive connection, and re-sent if that connection breaks before its answer.
   */
  pipelined?: boolean;
}

/** Default call timeout: 5 × the 15 s heartbeat interval (spec §1.6). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 75_000;
const MAX_ERROR_BODY = 4096;
/** Most calls in flight on one connection, when they are all `pipelined`. */
const PIPELINING = 8;

/** POSTs JSON to Mesos endpoints. One instance per scheduler or executor; `close()` when done. */
export class MesosHttpClient {
  private calls: CallAgent | undefined;
  private readonly batcher = new WriteBatcher();
  private readonly maxSockets: number;
  /** Headers of every request, as undici's flat `[name, value, …]` list. */
  private readonly baseHeaders: string[];
  /** The names of `baseHeaders`, in lower case. */
  private readonly baseHeaderNames: string[];
  private readonly timeoutMs: number;
  private readonly tls: TlsOptions;
  private readonly streams = new Set<() => void>();

  constructor(options: MesosHttpClientOptions = {}) {
    this.maxSockets = options.maxSockets ?? 32;
    this.tls = options.tls ?? {};
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      ...options.headers,
    };
    if (options.credentials) {
      const { principal, secret } = options.credentials;
      headers['Authorization'] = `Basic ${Buffer.from(`${principal}:${secret}`).toString('base64')}`;
    }
    this.baseHeaders = Object.entries(headers).flat();
    this.baseHeaderNames = Object.keys(headers).map((name) => name.toLowerCase());
  }

  /**
   * POSTs `body` to `url` and reads the whole answer. Resolves for 2xx; rejects with
   * `MesosHttpError` for any other status (307 carries the resolved `location`) and with
   * `MesosConnectionError` when no answer arrives.
   */
  post(url: URL, body: string, options: RequestOptions = {}): Promise<MesosResponse> {
    const extra = options.headers;
    let headers = this.baseHeaders;
    if (extra !== undefined) {
      headers = headers.slice();
      for (const name in extra) {
        // A per-request header replaces a client-wide one of the same name.
        const at = this.baseHeaderNames.indexOf(name.toLowerCase());
        if (at >= 0) headers[2 * at + 1] = extra[name] as string;
        else headers.push(name, extra[name] as string);
      }
    }
    const signal = options.signal;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      const handler = new CallHandler(url, timeoutMs, signal, resolve, reject);
      if (signal?.aborted) return handler.handleEvent();
      this.batcher.hold();
      this.callAgent().dispatch(
        {
          origin: url.origin,
          path: url.pathname + url.search,
          method: 'POST',
          headers,
          body,
          // Both are needed: undici holds back the requests behind one that is `blocking`
          // (its default for every method but HEAD) until its answer's headers arrive.
          idempotent: options.pipelined === true,
          blocking: options.pipelined !== true,
        },
        handler,
      );
    });
  }

  /**
   * POSTs `body` on a new connection and resolves once a 200 answer's headers arrived, leaving
   * the body to be read as a stream. Other statuses reject like `post`.
   */
  async openStream(url: URL, body: string, options: RequestOptions = {}): Promise<MesosStreamResponse> {
    const response = await this.openRequest(url, body, options);
    if (response.statusCode !== 200) {
      response.destroy();
      throw new MesosConnectionError(
        'MESOS_CONNECTION_FAILED',
        `expected 200 for a stream, got ${response.statusCode}`,
        redact(url),
      );
    }
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.streams.delete(close);
      response.destroy();
      response.socket?.destroy();
    };
    this.streams.add(close);
    response.once('close', () => this.streams.delete(close));
    return { status: 200, headers: response.headers, body: response, close };
  }

  /**
   * Closes every open stream and idle connection. Requests in flight fail. The client stays
   * usable: a later request opens new connections.
   */
  close(): void {
    for (const close of [...this.streams]) close();
    const calls = this.calls;
    this.calls = undefined;
    calls?.destroy().catch(() => {});
  }

  private callAgent(): CallAgent {
    this.calls ??= new CallAgent({
      connections: this.maxSockets,
      pipelining: PIPELINING,
      // The call's own deadline (./call.ts) applies; undici's would only count time on the wire.
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: this.batcher.connector({ ...this.tls }),
    });
    return this.calls;
  }

  /** A stream's request on a fresh `node:http(s)` connection; resolves with a 2xx response. */
  private openRequest(url: URL, body: string, options: RequestOptions): Promise<IncomingMessage> {
    const where = redact(url);
    const payload = Buffer.from(body, 'utf8');
    const isHttps = url.protocol === 'https:';
    const transport = isHttps ? https : http;
    const agent = isHttps
      ? new https.Agent({ keepAlive: false, ...this.tls })
      : new http.Agent({ keepAlive: false });
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const headers: Record<string, string> = {};
    for (let i = 0; i < this.baseHeaders.length; i += 2) {
      headers[this.baseHeaders[i] as string] = this.baseHeaders[i + 1] as string;
    }
    return new Promise<IncomingMessage>((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | undefined, response?: IncomingMessage) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(response as IncomingMessage);
      };
      const request = transport.request(url, {
        method: 'POST',
        agent,
        headers: { ...headers, ...options.headers, 'Content-Length': String(payload.length) },
      });
      const timer = setTimeout(() => {
        const error = new MesosConnectionError(
          'MESOS_REQUEST_TIMEOUT',
          `no answer from ${where} within ${timeoutMs} ms`,
          where,
        );
        finish(error);
        request.destroy(error);
      }, timeoutMs);
      const onAbort = () => {
        const error = new MesosConnectionError(
          'MESOS_REQUEST_ABORTED',
          `request to ${where} aborted`,
          where,
          {
            cause: options.signal?.reason,
          },
        );
        finish(error);
        request.destroy(error);
      };
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      request.on('error', (cause) => {
        finish(
          new MesosConnectionError(
            'MESOS_CONNECTION_FAILED',
            `POST ${where} failed: ${cause.message}`,
            where,
            { cause },
          ),
        );
      });
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          response.socket.setTimeout(0);
          finish(undefined, response);
          return;
        }
        readBody(response, MAX_ERROR_BODY, url).then(
          (data) => {
            const location =
              typeof response.headers.location === 'string' ? response.headers.location : undefined;
            const leader = status === 307 && location ? resolveLeaderLocation(location, url).href : undefined;
            finish(new MesosHttpError(status, data.toString('utf8'), where, leader));
          },
          (error: Error) => finish(error),
        );
      });
      request.end(payload);
    });
  }
}

function readBody(response: IncomingMessage, limit: number, url: URL): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      if (size < limit) chunks.push(chunk);
      size += chunk.length;
    });
    response.once('end', () => resolve(Buffer.concat(chunks).subarray(0, Math.min(size, limit))));
    response.once('error', (cause) =>
      reject(
        new MesosConnectionError(
          'MESOS_CONNECTION_FAILED',
          `reading the answer of ${redact(url)} failed`,
          redact(url),
          { cause },
        ),
      ),
    );
    response.once('aborted', () =>
      reject(
        new MesosConnectionError(
          'MESOS_CONNECTION_FAILED',
          `the answer of ${redact(url)} was cut`,
          redact(url),
        ),
      ),
    );
  });
}
