import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MesosConnectionError,
  MesosHttpClient,
  MesosHttpError,
  STATUS_BEHAVIOURS,
  parseMasterAddress,
  resolveLeaderLocation,
  statusBehaviour,
} from '@galley/mesos';
import { startTestServer, type TestServer } from '../support/http-server.js';

const servers: TestServer[] = [];
const clients: MesosHttpClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

async function server(handler: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const s = await startTestServer(handler);
  servers.push(s);
  return s;
}
function client(options?: ConstructorParameters<typeof MesosHttpClient>[0]): MesosHttpClient {
  const c = new MesosHttpClient(options);
  clients.push(c);
  return c;
}

describe('MesosHttpClient requests (spec §0, §1.2)', () => {
  it('POSTs with exactly application/json, Accept application/json and basic auth on every request', async () => {
    const s = await server((_req, res) => res.writeHead(202).end());
    const c = client({ credentials: { principal: 'ts-batch', secret: 's3cr3t' } });
    await c.post(new URL('/api/v1/scheduler', s.url), '{"type":"REVIVE"}', {
      headers: { 'Mesos-Stream-Id': 'abc' },
    });
    await c.post(new URL('/api/v1/scheduler', s.url), '{"type":"SUPPRESS"}');
    expect(s.requests).toHaveLength(2);
    for (const r of s.requests) {
      expect(r.method).toBe('POST');
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['accept']).toBe('application/json');
      expect(r.headers['authorization']).toBe(`Basic ${Buffer.from('ts-batch:s3cr3t').toString('base64')}`);
    }
    expect(s.requests[0]?.headers['mesos-stream-id']).toBe('abc');
    expect(s.requests[1]?.headers['mesos-stream-id']).toBeUndefined();
    expect(s.requests[0]?.body).toBe('{"type":"REVIVE"}');
  });

  it('reuses keep-alive connections for sequential calls and opens streams on their own', async () => {
    const s = await server((req, res) => {
      if (req.body.includes('SUBSCRIBE')) res.writeHead(200, { 'Mesos-Stream-Id': 'x' }).write('');
      else res.writeHead(202).end();
    });
    const c = client();
    for (let i = 0; i < 5; i++) await c.post(new URL('/api/v1/scheduler', s.url), '{}');
    const stream = await c.openStream(new URL('/api/v1/scheduler', s.url), '{"type":"SUBSCRIBE"}');
    await c.post(new URL('/api/v1/scheduler', s.url), '{}');
    const callPorts = new Set(s.requests.filter((r) => r.body === '{}').map((r) => r.remotePort));
    // undici waits one event-loop turn before it reuses a connection whose answer just ended, so
    // back-to-back calls alternate between two kept-alive connections; never one per call.
    expect(callPorts.size).toBeLessThanOrEqual(2);
    expect(callPorts.has(s.requests[5]?.remotePort)).toBe(false);
    stream.close();
  });

  it('maps each status of spec §1.3 to a typed error with the reason, never the credentials', async () => {
    const statuses = [400, 401, 403, 404, 405, 406, 409, 415, 501, 503, 500, 418];
    const s = await server((req, res) => {
      const status = Number(req.path.split('/').pop());
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`reason ${status}`);
    });
    const c = client({ credentials: { principal: 'p', secret: 'very-secret' } });
    for (const status of statuses) {
      const error = await c.post(new URL(`/x/${status}`, s.url), '{}').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(MesosHttpError);
      const e = error as MesosHttpError;
      expect(e.status).toBe(status);
      expect(e.reason).toBe(`reason ${status}`);
      expect({
        code: e.code,
        temporary: e.temporary,
        subscriptionLost: e.subscriptionLost,
        redirect: e.redirect,
      }).toEqual(statusBehaviour(status));
      expect(`${e.message} ${e.url} ${JSON.stringify(e)}`).not.toContain('very-secret');
      expect(`${e.message}`).not.toContain(Buffer.from('p:very-secret').toString('base64'));
    }
  });

  it('has one table: 403 and 503 lose the subscription, 404/503/5xx are temporary, 400 is final', () => {
    expect(STATUS_BEHAVIOURS.get(403)).toMatchObject({
      code: 'MESOS_FORBIDDEN',
      subscriptionLost: true,
      temporary: false,
    });
    expect(STATUS_BEHAVIOURS.get(503)).toMatchObject({ code: 'MESOS_UNAVAILABLE', temporary: true });
    expect(STATUS_BEHAVIOURS.get(404)).toMatchObject({ code: 'MESOS_NOT_FOUND', temporary: true });
    expect(STATUS_BEHAVIOURS.get(400)).toMatchObject({
      code: 'MESOS_BAD_REQUEST',
      temporary: false,
      subscriptionLost: false,
    });
    expect(statusBehaviour(502)).toMatchObject({ code: 'MESOS_SERVER_ERROR', temporary: true });
  });

  it('resolves a protocol-relative 307 Location against the current scheme', async () => {
    const s = await server((_req, res) =>
      res.writeHead(307, { Location: '//10.1.2.3:5051/api/v1/scheduler' }).end(),
    );
    const error = (await client()
      .post(new URL('/api/v1/scheduler', s.url), '{}')
      .catch((e: unknown) => e)) as MesosHttpError;
    expect(error).toMatchObject({
      code: 'MESOS_NOT_LEADER',
      redirect: true,
      location: 'http://10.1.2.3:5051/',
    });
    expect(
      resolveLeaderLocation('//leader:5050/api/v1/scheduler', new URL('https://old:5050/api/v1/scheduler'))
        .href,
    ).toBe('https://leader:5050/');
    expect(resolveLeaderLocation('//leader:5050', new URL('http://old:5050/')).href).toBe(
      'http://leader:5050/',
    );
  });

  it('times out a call that gets no answer (MESOS_REQUEST_TIMEOUT, temporary)', async () => {
    const s = await server(() => {
      /* never answers */
    });
    // Without the timeout the call would hang until the test's own timeout fails it.
    const error = await client({ requestTimeoutMs: 150 })
      .post(new URL('/api/v1/scheduler', s.url), '{}')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MesosConnectionError);
    expect(error).toMatchObject({ code: 'MESOS_REQUEST_TIMEOUT', temporary: true });
  });

  it('reports a refused connection as MESOS_CONNECTION_FAILED and an abort as MESOS_REQUEST_ABORTED', async () => {
    const s = await server((_req, res) => res.writeHead(202).end());
    const url = new URL('/api/v1/scheduler', s.url);
    await s.close();
    servers.length = 0;
    await expect(client().post(url, '{}')).rejects.toMatchObject({
      code: 'MESOS_CONNECTION_FAILED',
      temporary: true,
    });
    const hanging = await server(() => {});
    const controller = new AbortController();
    const pending = client().post(new URL('/api/v1/scheduler', hanging.url), '{}', {
      signal: controller.signal,
    });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'MESOS_REQUEST_ABORTED', temporary: false });
  });

  it('counts the wait for a free connection in the timeout and never sends a call that gave up waiting', async () => {
    const s = await server((req, res) => {
      if (req.body !== '"hang"') res.writeHead(202).end();
    });
    const url = new URL('/api/v1/scheduler', s.url);
    const c = client({ maxSockets: 1 });
    // The only connection is taken by a call that gets no answer until its own timeout.
    const hanging = c.post(url, '"hang"', { timeoutMs: 800 }).catch((e: unknown) => e);
    const deadline = Date.now() + 10_000;
    while (s.requests.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const controller = new AbortController();
    const aborted = c.post(url, '"aborted"', { signal: controller.signal }).catch((e: unknown) => e);
    const waited = c.post(url, '"waited"', { timeoutMs: 150 }).catch((e: unknown) => e);
    controller.abort();
    expect(await aborted).toMatchObject({ code: 'MESOS_REQUEST_ABORTED' });
    expect(await waited).toMatchObject({ code: 'MESOS_REQUEST_TIMEOUT', temporary: true });
    expect(await hanging).toMatchObject({ code: 'MESOS_REQUEST_TIMEOUT' });
    await expect(c.post(url, '"after"')).resolves.toMatchObject({ status: 202 });
    expect(s.requests.map((r) => r.body)).toEqual(['"hang"', '"after"']);
  });

  it('opens a stream on its own connection that stays open without an idle timeout', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Mesos-Stream-Id': 'stream-1' });
      res.write('20\n{"type":"HEARTBEAT"}');
      setTimeout(() => res.end('20\n{"type":"HEARTBEAT"}'), 400);
    });
    const stream = await client({ requestTimeoutMs: 100 }).openStream(
      new URL('/api/v1/scheduler', s.url),
      '{"type":"SUBSCRIBE"}',
    );
    expect(stream.headers['mesos-stream-id']).toBe('stream-1');
    const chunks: Buffer[] = [];
    for await (const chunk of stream.body) chunks.push(chunk as Buffer);
    // The body outlived the 100 ms request timeout: it only applies until the headers arrive.
    expect(Buffer.concat(chunks).toString()).toBe('20\n{"type":"HEARTBEAT"}20\n{"type":"HEARTBEAT"}');
  });

  it('parses master addresses', () => {
    expect(parseMasterAddress('m1:5050').href).toBe('http://m1:5050/');
    expect(parseMasterAddress('m1').href).toBe('http://m1:5050/');
    expect(parseMasterAddress('https://user:pw@m1:6060/x?y').href).toBe('https://m1:6060/');
    expect(parseMasterAddress('[::1]:5050').href).toBe('http://[::1]:5050/');
  });
});

const openssl = existsSync('/usr/bin/openssl');

describe.runIf(openssl)('MesosHttpClient over https with a private CA', () => {
  it('trusts the configured CA, sends a client certificate, and refuses an unknown CA', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'galley-tls-'));
    try {
      const run = promisify(execFile);
      await run('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ]);
      const key = await readFile(join(dir, 'key.pem'));
      const cert = await readFile(join(dir, 'cert.pem'));
      const seen: (string | undefined)[] = [];
      const tlsServer = https.createServer(
        { key, cert, ca: cert, requestCert: true, rejectUnauthorized: false },
        (req, res) => {
          const cn = (req.socket as TLSSocket).getPeerCertificate()?.subject?.CN;
          seen.push(Array.isArray(cn) ? cn[0] : cn);
          res.writeHead(202).end();
        },
      );
      await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
      const url = new URL(`https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}/api/v1/scheduler`);
      try {
        const ok = await client({ tls: { ca: cert, cert, key } }).post(url, '{}');
        expect(ok.status).toBe(202);
        expect(seen).toEqual(['127.0.0.1']);
        await expect(client().post(url, '{}')).rejects.toMatchObject({ code: 'MESOS_CONNECTION_FAILED' });
      } finally {
        tlsServer.closeAllConnections();
        await new Promise((r) => tlsServer.close(r));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
