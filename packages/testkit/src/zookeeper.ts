import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.js';
import { type ServiceGate, unavailable } from './services.js';

/** A standalone ZooKeeper server for tests, on 127.0.0.1. */
export interface ZooKeeperServer {
  /** `host:port`, for a `zk://` URL or a ZooKeeper client. */
  connectString: string;
  port: number;
  stop(): Promise<void>;
}

const JAR = '/usr/share/java/zookeeper.jar';

/**
 * Starts Debian's ZooKeeper (package zookeeperd) as a standalone server in a temp directory on a
 * free port. GALLEY_TEST_ZOOKEEPER (`host:port`), when set, is used instead.
 */
export async function startZooKeeper(): Promise<ServiceGate<ZooKeeperServer>> {
  const external = process.env['GALLEY_TEST_ZOOKEEPER'];
  if (external) {
    const port = Number(external.split(':')[1] ?? 2181);
    return { available: true, service: { connectString: external, port, stop: async () => {} } };
  }
  if (!existsSync(JAR) || !existsSync('/usr/bin/java')) {
    return unavailable('ZooKeeper tests', 'ZooKeeper is not installed (apt-get install zookeeperd)');
  }
  const dir = await mkdtemp(join(tmpdir(), 'galley-zk-'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    '/usr/bin/java',
    [
      '-Xmx256m',
      '-Dzookeeper.admin.enableServer=false',
      '-Dzookeeper.4lw.commands.whitelist=ruok,srvr,stat',
      '-cp',
      `/etc/zookeeper/conf:${JAR}`,
      'org.apache.zookeeper.server.ZooKeeperServerMain',
      String(port),
      join(dir, 'data'),
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, '127.0.0.1', 30_000);
  return {
    available: true,
    service: {
      connectString: `127.0.0.1:${port}`,
      port,
      async stop() {
        child.kill('SIGKILL');
        await exited;
        await rm(dir, { recursive: true, force: true });
      },
    },
  };
}
