import { afterEach, describe, expect, it } from 'vitest';
import {
  createDnsDetector,
  createMasterDetector,
  createStaticDetector,
  decodePackedIPv4,
  masterInfoUrl,
  parseMasterNode,
  parseZooKeeperUrl,
} from '@galley/mesos';
import { freePort } from '@galley/testkit';
import { startTestServer, type TestServer } from '../support/http-server.js';

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** A master that answers `GET /redirect` like Mesos: 307 to the leader, or 503 when none. */
async function master(leader: () => string | undefined): Promise<TestServer> {
  const s = await startTestServer((req, res) => {
    const l = leader();
    if (req.path !== '/redirect') return void res.writeHead(404).end();
    if (l === undefined) return void res.writeHead(503).end('No leader elected');
    res.writeHead(307, { Location: `//${l}` }).end();
  });
  servers.push(s);
  return s;
}

describe('static master list detection (spec §1.7)', () => {
  it('asks the masters with GET /redirect and follows the protocol-relative answer', async () => {
    let leader = '';
    const a = await master(() => leader);
    const b = await master(() => leader);
    leader = `127.0.0.1:${b.port}`;
    const detector = createStaticDetector([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]);
    expect((await detector.detect()).url.href).toBe(`http://127.0.0.1:${b.port}/`);
    expect(a.requests[0]).toMatchObject({ method: 'GET', path: '/redirect' });
    // The last known leader is asked first next time.
    leader = `127.0.0.1:${a.port}`;
    expect((await detector.detect()).url.href).toBe(`http://127.0.0.1:${a.port}/`);
    expect(b.requests).toHaveLength(1);
    await detector.close();
  });

  it('skips masters that are down or know no leader, and fails with MESOS_NO_LEADER when none helps', async () => {
    const dead = await freePort();
    const leaderless = await master(() => undefined);
    const detector = createStaticDetector([`127.0.0.1:${dead}`, `127.0.0.1:${leaderless.port}`]);
    await expect(detector.detect()).rejects.toMatchObject({ code: 'MESOS_NO_LEADER', temporary: true });
    const good = await master(() => `10.9.9.9:5050`);
    const detector2 = createMasterDetector(
      `127.0.0.1:${dead},127.0.0.1:${leaderless.port},127.0.0.1:${good.port}`,
    );
    expect((await detector2.detect()).url.href).toBe('http://10.9.9.9:5050/');
  });

  it('returns a master that answers without naming a leader; SUBSCRIBE will be redirected there', async () => {
    const s = await startTestServer((_req, res) => res.writeHead(404).end());
    servers.push(s);
    const detector = createStaticDetector([`127.0.0.1:${s.port}`]);
    expect((await detector.detect()).url.href).toBe(`http://127.0.0.1:${s.port}/`);
  });
});

describe('DNS master detection', () => {
  it('resolves the name anew on every detection', async () => {
    const b = await startTestServer((_req, res) => res.writeHead(404).end());
    servers.push(b);
    const lookups: string[] = [];
    const detector = createDnsDetector('leader.mesos', {
      port: 0,
      lookup: async (name) => {
        lookups.push(name);
        return [{ address: '127.0.0.1', family: 4 }];
      },
    });
    // With port 0 nothing answers: detection fails but still looked the name up.
    await expect(detector.detect()).rejects.toMatchObject({ code: 'MESOS_NO_LEADER' });
    const real = createDnsDetector('leader.mesos', {
      lookup: async (name) => {
        lookups.push(name);
        return [{ address: '127.0.0.1', family: 4 }];
      },
      port: b.port,
    });
    expect((await real.detect()).url.href).toBe(`http://127.0.0.1:${b.port}/`);
    expect((await real.detect()).url.href).toBe(`http://127.0.0.1:${b.port}/`);
    expect(lookups).toEqual(['leader.mesos', 'leader.mesos', 'leader.mesos']);
  });

  it('reports a name that does not resolve as MESOS_NO_LEADER', async () => {
    const detector = createDnsDetector('nowhere.invalid', {
      lookup: async () => {
        throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
      },
    });
    await expect(detector.detect()).rejects.toMatchObject({ code: 'MESOS_NO_LEADER' });
  });

  it('createMasterDetector treats one host[:port] as a DNS name (localhost works)', async () => {
    const s = await startTestServer((_req, res) => res.writeHead(404).end());
    servers.push(s);
    const detector = createMasterDetector(`localhost:${s.port}`);
    expect((await detector.detect()).url.port).toBe(String(s.port));
  });
});

describe('ZooKeeper URLs and MasterInfo (spec §8)', () => {
  it('parses zk:// URLs with digest auth and strips the trailing slash', () => {
    expect(parseZooKeeperUrl('zk://u:p@h1:2181,h2:2181/mesos/')).toEqual({
      servers: 'h1:2181,h2:2181',
      digest: 'u:p',
      path: '/mesos',
    });
    expect(parseZooKeeperUrl('zk://h1:2181')).toEqual({ servers: 'h1:2181', path: '/' });
    expect(() => parseZooKeeperUrl('http://h1/mesos')).toThrow(
      expect.objectContaining({ code: 'MESOS_BAD_MASTER_SPEC' }),
    );
    expect(() => parseZooKeeperUrl('zk://h1,,h2/mesos')).toThrow(
      expect.objectContaining({ code: 'MESOS_BAD_MASTER_SPEC' }),
    );
  });

  it('reads child names as label + sequence and ignores non-numeric ones', () => {
    expect(parseMasterNode('json.info_0000000024')).toEqual({ label: 'json.info', sequence: 24 });
    expect(parseMasterNode('info_0000000003')).toEqual({ label: 'info', sequence: 3 });
    expect(parseMasterNode('log_replicas')).toBeUndefined();
    expect(parseMasterNode('nounderscore')).toBeUndefined();
  });

  it('builds the URL from address.ip, then hostname, then the packed ip', () => {
    expect(decodePackedIPv4(184549386)).toBe('10.0.0.11');
    const info = {
      id: 'x',
      ip: 184549386,
      port: 5050,
      address: { hostname: 'm1.example.com', ip: '10.0.0.11', port: 5051 },
    };
    expect(masterInfoUrl(info)?.href).toBe('http://10.0.0.11:5051/');
    expect(masterInfoUrl({ ...info, address: { hostname: 'm1.example.com', port: 5051 } })?.href).toBe(
      'http://m1.example.com:5051/',
    );
    expect(masterInfoUrl({ id: 'x', ip: 184549386, port: 5050 }, 'https')?.href).toBe(
      'https://10.0.0.11:5050/',
    );
    expect(masterInfoUrl({ id: 'x', ip: 0, port: 5050 })).toBeUndefined();
  });
});
