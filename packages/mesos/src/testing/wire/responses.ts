import type { HeaderList, HttpResponder, HttpStream } from './http-server.js';

/**
 * Responses with the exact header names, order and values recorded from Mesos 1.12 (libprocess):
 * plain answers carry `Date` then `Content-Length`; error texts carry `Date`, `Content-Type:
 * text/plain; charset=utf-8`, `Content-Length`; streams carry `Date`, `Transfer-Encoding`,
 * (`Mesos-Stream-Id`), `Content-Type` and no length.
 */

const TEXT_PLAIN = 'text/plain; charset=utf-8';

/** The HTTP `Date` header value for now. */
export function httpDate(): string {
  return new Date().toUTCString();
}

/** `202 Accepted` with an empty body: only `Date` and `Content-Length: 0`. */
export function sendAccepted(res: HttpResponder): void {
  res.send(202, [
    ['Date', httpDate()],
    ['Content-Length', '0'],
  ]);
}

/**
 * An error answer with a plain-text body (may be empty, as Mesos' 404s are).
 * `extra` headers go between `Date` and `Content-Type`, as `Allow` does on a 405.
 */
export function sendText(res: HttpResponder, status: number, body: string, extra: HeaderList = []): void {
  const payload = Buffer.from(body);
  res.send(
    status,
    [
      ['Date', httpDate()],
      ...extra,
      ['Content-Type', TEXT_PLAIN],
      ['Content-Length', String(payload.length)],
    ],
    payload,
  );
}

/** `405` with `Allow: POST` and Mesos' sentence naming the received method. */
export function sendMethodNotAllowed(res: HttpResponder, method: string): void {
  sendText(res, 405, `405 Method Not Allowed. Expecting one of { 'POST' }, but received '${method}'.`, [
    ['Allow', 'POST'],
  ]);
}

/** A JSON document as the agent's and master's read-only endpoints answer it. */
export function sendJson(res: HttpResponder, body: string, status = 200): void {
  const payload = Buffer.from(body);
  res.send(
    status,
    [
      ['Date', httpDate()],
      ['Content-Length', String(payload.length)],
      ['Content-Type', 'application/json'],
    ],
    payload,
  );
}

/** `/files/download`: the file as an attachment, headers in the order the agent writes them. */
export function sendDownload(res: HttpResponder, data: Buffer, filename: string): void {
  res.send(
    200,
    [
      ['Content-Length', String(data.length)],
      ['Date', httpDate()],
      ['Content-Disposition', `attachment; filename=${filename}`],
      ['Content-Type', 'application/octet-stream'],
    ],
    data,
  );
}

/** `307` to the leading master; `location` is protocol-relative (`//host:port/path`). */
export function sendRedirect(res: HttpResponder, location: string): void {
  res.send(307, [
    ['Date', httpDate()],
    ['Location', location],
    ['Content-Length', '0'],
  ]);
}

/** `401` asking for HTTP basic credentials for the given realm. */
export function sendUnauthorized(res: HttpResponder, realm: string): void {
  sendText(res, 401, '', [['WWW-Authenticate', `Basic realm="${realm}"`]]);
}

/** Opens a RecordIO event stream (`200 OK`, chunked, `Content-Type: application/json`). */
export function openEventStream(res: HttpResponder, streamId: string | undefined): HttpStream {
  const headers: Array<[string, string]> = [
    ['Date', httpDate()],
    ['Transfer-Encoding', 'chunked'],
  ];
  if (streamId !== undefined) headers.push(['Mesos-Stream-Id', streamId]);
  headers.push(['Content-Type', 'application/json']);
  return res.openStream(200, headers);
}
