import { createServer, type Server, type Socket } from 'node:net';

/**
 * A minimal HTTP/1.1 server over `node:net`, so the fake writes exactly the header names, order
 * and values a real Mesos master or agent writes. (`node:http` always appends `Connection` and
 * `Keep-Alive` headers, which Mesos never sends.) It supports keep-alive, `Content-Length` and
 * chunked request bodies, `Expect: 100-continue`, and long-lived chunked responses (event streams).
 * Requests on one connection are handled one after the other, pipelined ones included (libprocess
 * answers pipelined requests in order too).
 *
 * Writes are coalesced: a socket is corked from its first write in an event-loop turn until the
 * turn's check phase (`setImmediate`), so the answers to pipelined requests, and the events many
 * calls of the same turn produced on a stream, leave in one TCP write instead of one each — the
 * bytes on the wire are the same, only their segmentation changes. On loopback each write costs
 * the kernel's whole TCP path in the writer's time: it was the fake master's largest cost in
 * bench:sdk (one 202 per ACKNOWLEDGE).
 */

/** One parsed request. Header names are lower-case; repeated headers are joined with ", ". */
export interface HttpRequest {
  readonly method: string;
  /** The raw request target, e.g. `/files/read?path=%2Ftmp&offset=0`. */
  readonly target: string;
  /** The decoded path of the target, without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

/** A header list in the order it is written; names keep their case. */
export type HeaderList = ReadonlyArray<readonly [string, string]>;

/** An open chunked response body. Writes after `end()` or after the connection closed are ignored. */
export interface HttpStream {
  /** Writes one chunk (skipped when empty). */
  write(data: string | Buffer): void;
  /** Writes the chunked terminator: a clean end of the body. */
  end(): void;
  /** Closes the connection in the middle of the body (the client sees an aborted response). */
  abort(): void;
  /** True once the body ended, was aborted, or the peer went away. */
  readonly closed: boolean;
  /** Called once when the stream closes for any reason (`clean` is true only after `end()`). */
  onClose(listener: (clean: boolean) => void): void;
}

/** Answers one request: exactly one of `send`, `openStream` or `abort` must be called. */
export interface HttpResponder {
  send(status: number, headers: HeaderList, body?: string | Buffer): void;
  /** Writes the status line and headers; the caller includes `Transfer-Encoding: chunked`. */
  openStream(status: number, headers: HeaderList): HttpStream;
  /** Drops the connection without answering. */
  abort(): void;
}

export type HttpHandler = (request: HttpRequest, responder: HttpResponder) => void | Promise<void>;

/** A listening server. */
export interface HttpServer {
  readonly port: number;
  readonly host: string;
  /** Stops listening and destroys every open connection (streams end as aborted). */
  close(): Promise<void>;
}

const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue',
  200: 'OK',
  202: 'Accepted',
  204: 'No Content',
  307: 'Temporary Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** The reason phrase Mesos (libprocess) writes for a status code. */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Unknown';
}

/**
 * Starts listening on host:port (port 0 = chosen by the OS). A handler that throws or rejects
 * gets a 500 written for it, unless it already answered.
 */
export async function startHttpServer(options: {
  host?: string;
  port?: number;
  handler: HttpHandler;
}): Promise<HttpServer> {
  const host = options.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    new Connection(socket, options.handler).start();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = address && typeof address === 'object' ? address.port : 0;
  return {
    port,
    host,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

interface ParsedHead {
  method: string;
  target: string;
  headers: Map<string, string>;
  keepAlive: boolean;
}

/** Per-connection state machine: read one request, dispatch, wait for the answer, repeat. */
class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private busy = false;
  private dead = false;
  private readonly flush: Flusher;

  constructor(
    private readonly socket: Socket,
    private readonly handler: HttpHandler,
  ) {
    this.flush = new Flusher(socket);
  }

  start(): void {
    this.socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.pump();
    });
    this.socket.on('error', () => this.socket.destroy());
    this.socket.on('close', () => {
      this.dead = true;
    });
  }

  private pump(): void {
    while (!this.busy && !this.dead) {
      const request = this.readRequest();
      if (request === undefined) return;
      this.dispatch(request.request, request.keepAlive);
    }
  }

  /** Parses one complete request from the buffer, or returns undefined when more bytes are needed. */
  private readRequest(): { request: HttpRequest; keepAlive: boolean } | undefined {
    const headEnd = this.buffer.indexOf('\r\n\r\n');
    if (headEnd < 0) {
      if (this.buffer.length > MAX_HEAD_BYTES) this.fail(400);
      return undefined;
    }
    const head = parseHead(this.buffer.subarray(0, headEnd).toString('latin1'));
    if (head === undefined) {
      this.fail(400);
      return undefined;
    }
    const bodyStart = headEnd + 4;
    const body = this.readBody(head, bodyStart);
    if (body === undefined) return undefined;
    this.buffer = this.buffer.subarray(body.end);
    const queryAt = head.target.indexOf('?');
    const rawPath = queryAt < 0 ? head.target : head.target.slice(0, queryAt);
    let path = rawPath;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      // keep the raw path: a malformed escape just fails to match a route
    }
    return {
      keepAlive: head.keepAlive,
      request: {
        method: head.method,
        target: head.target,
        path,
        query: new URLSearchParams(queryAt < 0 ? '' : head.target.slice(queryAt + 1)),
        headers: head.headers,
        body: body.data,
      },
    };
  }

  private readBody(head: ParsedHead, start: number): { data: Buffer; end: number } | undefined {
    const transferEncoding = head.headers.get('transfer-encoding');
    if (transferEncoding !== undefined && transferEncoding.toLowerCase().includes('chunked')) {
      return this.readChunkedBody(head, start);
    }
    const length = Number(head.headers.get('content-length') ?? '0');
    if (!Number.isSafeInteger(length) || length < 0 || length > MAX_BODY_BYTES) {
      this.fail(length > MAX_BODY_BYTES ? 413 : 400);
      return undefined;
    }
    if (this.buffer.length < start + length) {
      this.continueIfExpected(head);
      return undefined;
    }
    return { data: this.buffer.subarray(start, start + length), end: start + length };
  }

  private readChunkedBody(head: ParsedHead, start: number): { data: Buffer; end: number } | undefined {
    const parts: Buffer[] = [];
    let offset = start;
    let total = 0;
    for (;;) {
      const lineEnd = this.buffer.indexOf('\r\n', offset);
      if (lineEnd < 0) break;
      const size = parseInt(this.buffer.subarray(offset, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
      if (!Number.isFinite(size) || size < 0) {
        this.fail(400);
        return undefined;
      }
      if (size === 0) {
        // "0\r\n" then optional trailer lines, then an empty line.
        const trailerEnd = this.buffer.indexOf('\r\n\r\n', lineEnd);
        if (trailerEnd < 0) break;
        return { data: Buffer.concat(parts), end: trailerEnd + 4 };
      }
      if (this.buffer.length < lineEnd + 2 + size + 2) break;
      total += size;
      if (total > MAX_BODY_BYTES) {
        this.fail(413);
        return undefined;
      }
      parts.push(this.buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
      offset = lineEnd + 2 + size + 2;
    }
    this.continueIfExpected(head);
    return undefined;
  }

  private continueIfExpected(head: ParsedHead): void {
    if (head.headers.get('expect')?.toLowerCase() === '100-continue') {
      head.headers.delete('expect');
      this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    }
  }

  private fail(status: number): void {
    const text = reasonPhrase(status);
    this.socket.end(
      `HTTP/1.1 ${status} ${text}\r\nDate: ${new Date().toUTCString()}\r\nContent-Length: 0\r\n\r\n`,
    );
    this.dead = true;
  }

  private dispatch(request: HttpRequest, keepAlive: boolean): void {
    this.busy = true;
    let answered = false;
    const done = (): void => {
      this.busy = false;
      if (!keepAlive) this.socket.end();
      // A pipelined request is read at once: its answer joins this one's write (see Flusher).
      else if (this.buffer.length > 0) this.pump();
    };
    const claim = (): boolean => {
      if (answered) return false;
      answered = true;
      return true;
    };
    const responder: HttpResponder = {
      send: (status, headers, body) => {
        if (!claim() || this.dead) return;
        const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
        this.flush.cork();
        this.socket.write(formatHead(status, headers));
        if (payload !== undefined && payload.length > 0 && request.method !== 'HEAD')
          this.socket.write(payload);
        done();
      },
      openStream: (status, headers) => {
        claim();
        const stream = new ChunkedStream(this.socket, this.flush, () => done());
        if (!this.dead) this.socket.write(formatHead(status, headers));
        else stream.markClosed(false);
        return stream;
      },
      abort: () => {
        claim();
        this.dead = true;
        this.socket.destroy();
      },
    };
    Promise.resolve()
      .then(() => this.handler(request, responder))
      .catch(() => {
        if (claim() && !this.dead) {
          this.socket.write(
            formatHead(500, [
              ['Date', new Date().toUTCString()],
              ['Content-Length', '0'],
            ]),
          );
          done();
        }
      });
  }
}

/**
 * Corks a socket from its first write in an event-loop turn until that turn's check phase, when
 * everything written meanwhile goes out in one `writev`.
 */
class Flusher {
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  constructor(private readonly socket: Socket) {}

  /** Call before writing. */
  cork(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    setImmediate(this.uncork);
  }
}

/** A chunked response body on a socket; `end()` hands the connection back for the next request. */
class ChunkedStream implements HttpStream {
  private state: 'open' | 'ended' | 'closed' = 'open';
  private readonly listeners: Array<(clean: boolean) => void> = [];

  constructor(
    private readonly socket: Socket,
    private readonly flush: Flusher,
    private readonly onEnd: () => void,
  ) {
    const onGone = (): void => this.markClosed(false);
    socket.once('close', onGone);
    this.listeners.push(() => socket.off('close', onGone));
  }

  get closed(): boolean {
    return this.state !== 'open';
  }

  write(data: string | Buffer): void {
    if (this.state !== 'open') return;
    const length = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (length === 0) return;
    // Many events are often written in one turn (offers, updates): batch them into one TCP write.
    this.flush.cork();
    if (typeof data === 'string') {
      this.socket.write(`${length.toString(16)}\r\n${data}\r\n`);
      return;
    }
    this.socket.write(`${length.toString(16)}\r\n`);
    this.socket.write(data);
    this.socket.write('\r\n');
  }

  end(): void {
    if (this.state !== 'open') return;
    this.socket.write('0\r\n\r\n');
    this.markClosed(true);
    this.onEnd();
  }

  abort(): void {
    if (this.state !== 'open') return;
    this.socket.destroy();
    this.markClosed(false);
  }

  onClose(listener: (clean: boolean) => void): void {
    if (this.state !== 'open') listener(this.state === 'ended');
    else this.listeners.push(listener);
  }

  /** @internal */
  markClosed(clean: boolean): void {
    if (this.state !== 'open') return;
    this.state = clean ? 'ended' : 'closed';
    for (const listener of this.listeners.splice(0)) listener(clean);
  }
}

function formatHead(status: number, headers: HeaderList): string {
  let head = `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  return `${head}\r\n`;
}

function parseHead(text: string): ParsedHead | undefined {
  const lines = text.split('\r\n');
  const requestLine = lines[0]?.split(' ');
  if (requestLine === undefined || requestLine.length !== 3) return undefined;
  const [method, target, version] = requestLine as [string, string, string];
  if (!version.startsWith('HTTP/1.')) return undefined;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
  }
  const connection = headers.get('connection')?.toLowerCase() ?? '';
  const keepAlive =
    version === 'HTTP/1.1' ? !connection.includes('close') : connection.includes('keep-alive');
  return { method, target, headers, keepAlive };
}
