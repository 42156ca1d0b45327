import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthPoller, type PollerSettings } from '@galley/mesos/extras';

async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const settings = (over: Partial<PollerSettings> = {}): PollerSettings => ({
  interval: 10,
  timeout: 1000,
  graceCount: 3,
  portIndex: 0,
  path: '/health',
  statusCodes: [200],
  restart: false,
  checkBody: undefined,
  ...over,
});

describe('framework-side HTTP health poller', () => {
  let server: Server | undefined;
  let poller: HealthPoller | undefined;
  afterEach(async () => {
    poller?.stop();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  async function serve(answer: () => [number, string]): Promise<{ port: number; hits: string[] }> {
    const hits: string[] = [];
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      const [code, body] = answer();
      res.writeHead(code).end(body);
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    return { port: (server?.address() as AddressInfo).port, hits };
  }

  it('reports unhealthy after graceCount failures, once, and healthy again after a pass', async () => {
    let code = 200;
    const { port, hits } = await serve(() => [code, 'ok']);
    const log: string[] = [];
    poller = new HealthPoller({
      onUnhealthy: (id, failures) => log.push(`unhealthy ${id} ${failures}`),
      onHealthy: (id) => log.push(`healthy ${id}`),
    });
    poller.track({
      taskId: 't1',
      name: 'web-1',
      serial: 1,
      address: '127.0.0.1',
      port,
      settings: settings(),
    });
    await waitFor(() => hits.length >= 3);
    expect(log).toEqual([]);
    expect(hits[0]).toBe('/health');
    code = 503;
    await waitFor(() => log.length > 0);
    expect(log).toEqual(['unhealthy t1 3']);
    const seen = hits.length;
    await waitFor(() => hits.length >= seen + 3);
    expect(log).toHaveLength(1);
    code = 200;
    await waitFor(() => log.length > 1);
    expect(log[1]).toBe('healthy t1');
  });

  it('fails a poll whose body check says no, and a port nobody listens on', async () => {
    const { port } = await serve(() => [200, 'status: degraded']);
    const unhealthy: string[] = [];
    poller = new HealthPoller({ onUnhealthy: (id) => unhealthy.push(id), onHealthy: () => undefined });
    poller.track({
      taskId: 'body',
      name: 'web-1',
      serial: 1,
      address: '127.0.0.1',
      port,
      settings: settings({ graceCount: 2, checkBody: (body) => body.includes('ok') }),
    });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    poller.track({
      taskId: 'dead',
      name: 'web-2',
      serial: 2,
      address: '127.0.0.1',
      port: deadPort,
      settings: settings({ graceCount: 2 }),
    });
    await waitFor(() => unhealthy.length === 2);
    expect(unhealthy.sort()).toEqual(['body', 'dead']);
  });

  it('stops polling an untracked task', async () => {
    const { port, hits } = await serve(() => [200, '']);
    poller = new HealthPoller({ onUnhealthy: () => undefined, onHealthy: () => undefined });
    poller.track({ taskId: 't', name: 'web-1', serial: 1, address: '127.0.0.1', port, settings: settings() });
    await waitFor(() => hits.length >= 1);
    poller.untrack('t');
    expect(poller.has('t')).toBe(false);
    const seen = hits.length;
    // A later marker: another task polled every 10 ms, several times, while 't' (also every 10 ms) is not.
    poller.track({
      taskId: 'u',
      name: 'web-2',
      serial: 1,
      address: '127.0.0.1',
      port,
      settings: settings({ path: '/other' }),
    });
    await waitFor(() => hits.filter((h) => h === '/other').length >= 5);
    // At most the request that was in flight when it was untracked.
    expect(hits.filter((h) => h === '/health').length).toBeLessThanOrEqual(seen + 1);
  });
});
