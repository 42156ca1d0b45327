import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer } from './harness.js';

// The HTTP server's limits over real connections on loopback (issue 12 item 5): a request must
// arrive within the request timeout (50 slow-body sockets are answered 408 and closed), a silent
// connection is closed, broken HTTP is answered in the one error shape, connections and
// event-stream clients are capped, and a kept-alive connection serves a bounded number of
// requests. Each limit is a setting; the tests set them small.

/** A connection that records what it received and when it closed. */
interface Probe {
  socket: Socket;
  received: string;
  closed: boolean;
}

function open(port: number): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const probe: Probe = { socket, received: '', closed: false };
    socket.on('data', (d) => (probe.received += d.toString('utf8')));
    socket.on('close', () => (probe.closed = true));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve(probe));
    socket.once('error', reject);
  });
}

/** Waits, generously for a loaded machine, until every probe's connection is closed. */
const allClosed = (probes: Probe[]) =>
  vi.waitFor(() => expect(probes.filter((p) => !p.closed)).toHaveLength(0), {
    timeout: 60_000,
    interval: 50,
  });

/** The JSON body of the first response a probe received. */
const bodyOf = (p: Probe) => JSON.parse(p.received.slice(p.received.indexOf('\r\n\r\n') + 4));

describe('request and idle timeouts', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let port: number;
  beforeAll(async () => {
    server = await startTestServer({
      flags: {
        httpRequestTimeoutMs: '1000',
        httpIdleTimeoutMs: '1500',
        httpKeepAliveTimeoutMs: '500',
        httpMaxRequestsPerSocket: '2',
      },
    });
    port = Number(new URL(await server.listen()).port);
  });
  afterAll(async () => server?.stop());

  it('answers 50 sockets that send their body too slowly with 408 and closes them', async () => {
    const probes = await Promise.all(Array.from({ length: 50 }, () => open(port)));
    for (const p of probes)
      p.socket.write(
        'POST /api/v1/task HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"alias":',
      );
    // A byte now and then: never idle, never done.
    const drip = setInterval(() => {
      for (const p of probes) if (!p.closed) p.socket.write(' ');
    }, 100);
    try {
      await allClosed(probes);
    } finally {
      clearInterval(drip);
    }
    for (const p of probes) {
      expect(p.received).toMatch(/^HTTP\/1\.1 408 /);
      expect(bodyOf(p)).toEqual({ code: 'REQUEST_TIMEOUT', message: expect.any(String) });
    }
  });

  it('closes a connection that sends nothing', async () => {
    const silent = await Promise.all(Array.from({ length: 5 }, () => open(port)));
    await allClosed(silent);
  });

  it('answers broken HTTP with a 400 in the one error shape', async () => {
    const p = await open(port);
    p.socket.write('THIS IS NOT HTTP\r\n\r\n');
    await allClosed([p]);
    expect(p.received).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyOf(p)).toEqual({ code: 'BAD_REQUEST', message: 'the request is not valid HTTP' });
  });

  it('closes a kept-alive connection left idle after its answer', async () => {
    const p = await open(port);
    p.socket.write('GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await allClosed([p]);
    expect(p.received).toMatch(/^HTTP\/1\.1 200 [^]*connection: keep-alive/i);
  });

  it('tells a client to reconnect after the requests a connection may serve', async () => {
    const p = await open(port);
    const get = 'GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n';
    p.socket.write(get + get);
    await vi.waitFor(() => expect(p.received.match(/HTTP\/1\.1 200/g)).toHaveLength(2), {
      timeout: 30_000,
      interval: 50,
    });
    expect(p.received).toMatch(/connection: keep-alive[^]*connection: close/i);
    p.socket.destroy();
  });
});

describe('connection and event-stream caps', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let base: string;
  beforeAll(async () => {
    server = await startTestServer({ flags: { httpMaxConnections: '5', streamMaxClients: '1' } });
    base = await server.listen();
  });
  afterAll(async () => server?.stop());

  it('closes connections beyond the cap as they come, and takes new ones once there is room', async () => {
    const port = Number(new URL(base).port);
    const held = await Promise.all(Array.from({ length: 5 }, () => open(port)));
    // Each held connection has begun a request, so the server counts it.
    for (const p of held) p.socket.write('GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n');
    const extra = await open(port);
    extra.socket.write('GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await allClosed([extra]);
    expect(extra.received).toBe('');
    for (const p of held) p.socket.destroy();
    await allClosed(held);
    await vi.waitFor(async () => expect((await fetch(`${base}/api/v1/health`)).status).toBe(200), {
      timeout: 30_000,
    });
  });

  it('answers an event-stream client beyond the cap 503 with Retry-After', async () => {
    const first = new AbortController();
    const stream = await fetch(`${base}/api/v1/stream`, { signal: first.signal });
    expect(stream.status).toBe(200);
    const refused = await fetch(`${base}/api/v1/stream`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await refused.json()).toMatchObject({ code: 'TOO_MANY_STREAMS' });
    first.abort();
  });
});
