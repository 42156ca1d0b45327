// The library ships no types; tests reuse the ambient declaration the source compiles with.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../../src/master/node-zookeeper-client.d.ts" />
import zookeeper, { type Client } from 'node-zookeeper-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startZooKeeper, type ZooKeeperServer } from '@galley/testkit';
import { createMasterDetector, createScheduler, type LeaderChange, type MasterDetector } from '@galley/mesos';
import { startFakeMesos } from '@galley/mesos/testing';

const gate = await startZooKeeper();

/** A MasterInfo as a Mesos master writes it into ZooKeeper (spec §8). */
function masterInfo(ip: string, port: number) {
  return {
    id: `master-${ip}-${port}`,
    ip: 16777343,
    port,
    pid: `master@${ip}:${port}`,
    hostname: 'm.example.com',
    version: '1.12.0',
    address: { hostname: 'm.example.com', ip, port },
  };
}

/** Connects a ZooKeeper client, retrying when a loaded machine delays the session. */
async function connect(connectString: string): Promise<Client> {
  for (let attempt = 1; ; attempt++) {
    const client = zookeeper.createClient(connectString, { sessionTimeout: 10_000 });
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 15_000);
      client.once('connected', () => {
        clearTimeout(timer);
        resolve(true);
      });
      client.connect();
    });
    if (connected) return client;
    client.close();
    if (attempt === 3) throw new Error(`could not connect to ZooKeeper at ${connectString}`);
  }
}

function call<T>(fn: (cb: (error: Error | null, result: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((error, result) => (error ? reject(error) : resolve(result))));
}

/** Registers a master like Mesos does: an ephemeral sequential `json.info_` child. */
function register(client: Client, path: string, ip: string, port: number): Promise<string> {
  return call<string>((cb) =>
    client.create(
      `${path}/json.info_`,
      Buffer.from(JSON.stringify(masterInfo(ip, port))),
      zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL,
      cb,
    ),
  );
}

async function waitFor<T>(what: string, fn: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.runIf(gate.available)('ZooKeeper master detection against a real ZooKeeper', () => {
  let server: ZooKeeperServer;
  let owner: Client;
  const detectors: MasterDetector[] = [];
  let counter = 0;

  beforeAll(async () => {
    if (!gate.available) return;
    server = gate.service;
    owner = await connect(server.connectString);
  });

  afterAll(async () => {
    for (const d of detectors) await d.close();
    owner?.close();
    await server?.stop();
  });

  async function freshPath(): Promise<string> {
    const path = `/mesos-${process.pid}-${counter++}`;
    await call((cb) => owner.mkdirp(path, cb));
    return path;
  }

  function detector(path: string): MasterDetector {
    const d = createMasterDetector(`zk://${server.connectString}${path}/`, { waitMs: 15_000 });
    detectors.push(d);
    return d;
  }

  it('elects the child with the lowest sequence and ignores non-numeric children such as log_replicas', async () => {
    const path = await freshPath();
    await call((cb) => owner.mkdirp(`${path}/log_replicas`, cb));
    await register(owner, path, '10.0.0.11', 5050);
    await register(owner, path, '10.0.0.12', 5051);
    const d = detector(path);
    const leader = await d.detect();
    expect(leader.url.href).toBe('http://10.0.0.11:5050/');
    expect(leader.info?.id).toBe('master-10.0.0.11-5050');
  });

  it('follows the leader live when its node goes away, and reports unknown when none is left', async () => {
    const path = await freshPath();
    const first = await register(owner, path, '10.0.0.21', 5050);
    const second = await register(owner, path, '10.0.0.22', 5050);
    const d = detector(path);
    expect((await d.detect()).url.host).toBe('10.0.0.21:5050');
    const changes: LeaderChange[] = [];
    d.onChange((change) => changes.push(change));

    await call((cb) => owner.remove(first, (error) => cb(error, undefined)));
    const next = await waitFor('the next leader', () => changes.find((c) => c.type === 'leader'));
    expect(next.type === 'leader' && next.location.url.host).toBe('10.0.0.22:5050');
    expect((await d.detect()).url.host).toBe('10.0.0.22:5050');

    await call((cb) => owner.remove(second, (error) => cb(error, undefined)));
    const unknown = await waitFor('leader unknown', () => changes.find((c) => c.type === 'unknown'));
    expect(unknown).toMatchObject({ type: 'unknown', reason: 'no master registered' });

    // A new master registering becomes the leader.
    await register(owner, path, '10.0.0.23', 5050);
    expect((await d.detect()).url.host).toBe('10.0.0.23:5050');
  });

  it('sees a leader whose ZooKeeper session ends (ephemeral node removed)', async () => {
    const path = await freshPath();
    const masterSession = await connect(server.connectString);
    await register(masterSession, path, '10.0.0.31', 5050);
    await register(owner, path, '10.0.0.32', 5050);
    const d = detector(path);
    expect((await d.detect()).url.host).toBe('10.0.0.31:5050');
    const changes: LeaderChange[] = [];
    d.onChange((change) => changes.push(change));
    masterSession.close();
    const next = await waitFor('failover', () => changes.find((c) => c.type === 'leader'));
    expect(next.type === 'leader' && next.location.url.host).toBe('10.0.0.32:5050');
  });

  it('detect() rejects with MESOS_NO_LEADER when no master is registered within the wait time', async () => {
    const path = await freshPath();
    const d = createMasterDetector(`zk://${server.connectString}${path}`, { waitMs: 300 });
    detectors.push(d);
    await expect(d.detect()).rejects.toMatchObject({ code: 'MESOS_NO_LEADER', temporary: true });
  });

  it('waits for the path to be created', async () => {
    const path = `/late-${process.pid}-${counter++}`;
    const d = createMasterDetector(`zk://${server.connectString}${path}/`, { waitMs: 200 });
    detectors.push(d);
    const attempt = () => d.detect().catch((error: unknown) => error as Error);
    // Until it has looked and found no such path (from then on it watches for it).
    for (let i = 0; ; i++) {
      const outcome = await attempt();
      if (outcome instanceof Error && outcome.message.includes(`${path} does not exist`)) break;
      if (!(outcome instanceof Error) || i === 100) throw new Error(`unexpected: ${String(outcome)}`);
    }
    await call((cb) => owner.mkdirp(path, cb));
    await register(owner, path, '10.0.0.41', 5050);
    // detect() does not look again: only the watch set while the path was missing can tell it.
    let found: Awaited<ReturnType<typeof d.detect>> | undefined;
    for (let i = 0; found === undefined && i < 100; i++) {
      const outcome = await attempt();
      if (!(outcome instanceof Error)) found = outcome;
    }
    expect(found?.url.host).toBe('10.0.0.41:5050');
  });

  it('drives a scheduler: subscribes to the ZooKeeper leader, follows a change of leader and a failover (fake master)', async () => {
    const fake = await startFakeMesos({ masters: 2, allocationIntervalMs: 50 });
    const path = await freshPath();
    const ports = fake.masterUrls.map((u) => Number(new URL(u).port));
    try {
      const first = await register(owner, path, '127.0.0.1', ports[0] as number);
      const scheduler = createScheduler({
        master: `zk://${server.connectString}${path}`,
        framework: { user: 'root', name: 'zk-session' },
        backoff: { minMs: 20, maxMs: 200, factor: 2, jitter: 0 },
        reconciliation: { tasks: () => [], periodMs: 0 },
      });
      const reasons: string[] = [];
      scheduler.on('disconnected', (d) => reasons.push(d.reason));
      scheduler.start();
      try {
        const initial = await scheduler.subscribed();
        expect(initial.master).toBe(`http://127.0.0.1:${ports[0]}/`);
        // ZooKeeper names master 1 while master 0 still leads: the session drops its stream
        // (leader-changed), and master 1's 307 brings it back to master 0.
        await call((cb) => owner.remove(first, (error) => cb(error, undefined)));
        await register(owner, path, '127.0.0.1', ports[1] as number);
        await waitFor('leader-changed', () => (reasons.includes('leader-changed') ? true : undefined));
        const back = await scheduler.subscribed();
        expect(back.master).toBe(`http://127.0.0.1:${ports[0]}/`);
        // Now the cluster really fails over to master 1: the session follows with the same id.
        await fake.failover({ to: 1 });
        const moved = await waitFor('subscribed to master 1', () => {
          const st = scheduler.state;
          return st.phase === 'SUBSCRIBED' && st.master === `http://127.0.0.1:${ports[1]}/` ? st : undefined;
        });
        expect(moved.frameworkId).toBe(initial.frameworkId);
      } finally {
        await scheduler.stop();
      }
    } finally {
      await fake.stop();
    }
  });

  // Runs last: it stops the ZooKeeper server (only one this suite started itself).
  it.runIf(!process.env['GALLEY_TEST_ZOOKEEPER'])(
    'reports the leader as unknown when the ZooKeeper connection is lost',
    async () => {
      const path = await freshPath();
      await register(owner, path, '10.0.0.51', 5050);
      const d = detector(path);
      expect((await d.detect()).url.host).toBe('10.0.0.51:5050');
      const changes: LeaderChange[] = [];
      d.onChange((change) => changes.push(change));
      await server.stop();
      const unknown = await waitFor('unknown after session loss', () =>
        changes.find((c) => c.type === 'unknown'),
      );
      expect(unknown).toMatchObject({ type: 'unknown', reason: 'ZooKeeper connection lost' });
      await expect(d.detect(AbortSignal.timeout(200))).rejects.toMatchObject({
        code: 'MESOS_DETECTION_ABORTED',
      });
    },
  );
});
