import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MesosHttpClient } from '@galley/mesos';
import { startFakeMesos, type FakeMesos } from '@galley/mesos/testing';

/**
 * ACKNOWLEDGEs are pipelined on keep-alive connections (the client's `pipelined` requests) and
 * the fake master answers pipelined requests in order; calls that are not safe to send twice
 * never wait on a connection behind unanswered ones.
 */

const clients: MesosHttpClient[] = [];
const servers: Server[] = [];
let mesos: FakeMesos | undefined;
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  await mesos?.stop();
  mesos = undefined;
});

interface Received {
  connection: number;
  body: string;
  /** Answers written on any connection when this request arrived. */
  answeredBefore: number;
}

/**
 * A raw HTTP/1.1 server that records each request (with its connection) and answers 202 only
 * when the test calls `release()`, in arrival order: requests pile up on a connection when the
 * client pipelines them.
 */
async function holdingServer(): Promise<{ url: URL; received: Received[]; release(): void }> {
  const received: Received[] = [];
  const waiting: Socket[] = [];
  let answered = 0;
  let releasing = false;
  const answer = (socket: Socket) => {
    answered++;
    socket.write('HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n');
  };
  let connections = 0;
  const server = createServer((socket) => {
    const connection = connections++;
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const headEnd = buffer.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = buffer.subarray(0, headEnd).toString('latin1');
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < headEnd + 4 + length) return;
        const body = buffer.subarray(headEnd + 4, headEnd + 4 + length).toString();
        buffer = buffer.subarray(headEnd + 4 + length);
        received.push({ connection, body, answeredBefore: answered });
        if (releasing) answer(socket);
        else waiting.push(socket);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: new URL(`http://127.0.0.1:${port}/api/v1/scheduler`),
    received,
    release: () => {
      releasing = true;
      for (const socket of waiting.splice(0)) answer(socket);
    },
  };
}

describe('pipelined calls (ACKNOWLEDGE)', () => {
  it('go out together on one keep-alive connection; a call that is not pipelined waits for an idle one', async () => {
    const server = await holdingServer();
    const c = new MesosHttpClient({ maxSockets: 1 });
    clients.push(c);
    const acks = [1, 2, 3, 4].map((i) => c.post(server.url, `{"ack":${i}}`, { pipelined: true }));
    // All four reach the server on the one connection before any of them is answered.
    await expect.poll(() => server.received.length).toBe(4);
    expect(server.received.map((r) => [r.connection, r.body, r.answeredBefore])).toEqual([
      [0, '{"ack":1}', 0],
      [0, '{"ack":2}', 0],
      [0, '{"ack":3}', 0],
      [0, '{"ack":4}', 0],
    ]);
    const accept = c.post(server.url, '{"accept":1}');
    server.release();
    const answers = await Promise.all([...acks, accept]);
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    // The ACCEPT was sent only once the four answers were written.
    expect(server.received[4]).toEqual({ connection: 0, body: '{"accept":1}', answeredBefore: 4 });
  });
});

describe('fake master: pipelined requests', () => {
  it('answers requests sent back to back on one connection, in order, each with its own answer', async () => {
    mesos = await startFakeMesos({ agents: [] });
    const url = new URL(mesos.leaderUrl);
    const socket = createConnection(Number(url.port), url.hostname);
    const request = (method: string, contentType: string, body: string) =>
      `${method} /api/v1/scheduler HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: ${contentType}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.write(
      request('GET', 'application/json', '') +
        request('POST', 'text/plain', '{}') +
        request('POST', 'application/json', '{"type":"REVIVE"}'),
    );
    // Bodies have no line end: an answer's status line follows the previous body directly.
    const statusLines = () => text.match(/HTTP\/1\.1 \d{3} [^\r]*/g) ?? [];
    await expect.poll(() => statusLines().length).toBe(3);
    socket.destroy();
    expect(statusLines()).toEqual([
      'HTTP/1.1 405 Method Not Allowed',
      'HTTP/1.1 415 Unsupported Media Type',
      'HTTP/1.1 400 Bad Request',
    ]);
    expect(text).toContain("Failed to validate scheduler::Call: Expecting 'framework_id' to be present");
  });
});
