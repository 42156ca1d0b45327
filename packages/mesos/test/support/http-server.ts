/**
 * A tiny purpose-built HTTP server on 127.0.0.1 for byte-level cases the fake master cannot
 * produce (a malformed RecordIO header on the wire, a stream cut mid-record, a 503 then
 * success…). Each request is handed to `handler` with its full body.
 */
import http, { type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The client's port: equal ports mean one reused connection. */
  remotePort: number | undefined;
  /** When the whole request had arrived (epoch ms). */
  at: number;
}

/** A running test server. */
export interface TestServer {
  url: URL;
  port: number;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/** Starts a server whose answers come from `handler`. */
export async function startTestServer(
  handler: (request: SeenRequest, response: ServerResponse) => unknown,
): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        remotePort: req.socket.remotePort,
        at: Date.now(),
      };
      requests.push(seen);
      void Promise.resolve(handler(seen, res)).catch((error: unknown) => {
        res.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: new URL(`http://127.0.0.1:${port}/`),
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
