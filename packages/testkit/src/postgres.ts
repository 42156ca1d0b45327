import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';
import { type ServiceGate, unavailable } from './services.js';

const run = promisify(execFile);

/** A PostgreSQL server for tests. `url` points at the `postgres` database as a superuser. */
export interface PostgresServer {
  url: string;
  /** Creates an empty database and answers its URL, so suites do not see each other's rows. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

function findBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(base, versions[0], 'bin');
}

/**
 * Starts a throw-away PostgreSQL cluster in a temp directory on a free port (as the `postgres`
 * user when run as root, since PostgreSQL refuses to run as root). GALLEY_TEST_DATABASE_URL, when
 * set, is used instead of starting one.
 */
export async function startPostgres(): Promise<ServiceGate<PostgresServer>> {
  const external = process.env['GALLEY_TEST_DATABASE_URL'];
  if (external) return { available: true, service: serverAt(external, async () => {}) };
  const bin = findBinDir();
  if (!bin) {
    return unavailable('PostgreSQL tests', 'PostgreSQL is not installed (apt-get install postgresql)');
  }
  const dir = await mkdtemp(join(tmpdir(), 'galley-pg-'));
  const asRoot = userInfo().uid === 0;
  const exec = async (cmd: string, args: string[]) => {
    if (asRoot) return run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]);
    return run(join(bin, cmd), args);
  };
  if (asRoot) {
    const { uid, gid } = await postgresIds();
    await chown(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  await exec('initdb', ['-D', data, '-A', 'trust', '-U', 'galley', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`;
  await exec('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
  const stop = async () => {
    await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  return { available: true, service: serverAt(`postgres://galley@127.0.0.1:${port}/postgres`, stop) };
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const { stdout } = await run('id', ['-u', 'postgres']);
  const { stdout: g } = await run('id', ['-g', 'postgres']);
  return { uid: Number(stdout.trim()), gid: Number(g.trim()) };
}

let databaseCounter = 0;

function serverAt(url: string, stop: () => Promise<void>): PostgresServer {
  return {
    url,
    stop,
    async createDatabase(name) {
      const { default: pg } = await import('pg');
      const db = name ?? `t_${process.pid}_${Date.now().toString(36)}_${databaseCounter++}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${db}"`);
      } finally {
        await client.end();
      }
      const u = new URL(url);
      u.pathname = `/${db}`;
      return u.toString();
    },
  };
}
