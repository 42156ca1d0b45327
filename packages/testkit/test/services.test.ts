import { connect } from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { builtGalley, requirePath, startPostgres, startZooKeeper } from '@galley/testkit';

const postgres = await startPostgres();
const zookeeper = await startZooKeeper();

afterAll(async () => {
  if (postgres.available) await postgres.service.stop();
  if (zookeeper.available) await zookeeper.service.stop();
});

describe.runIf(postgres.available)('testkit: a real PostgreSQL started for the tests', () => {
  it('answers queries in a database of its own', async () => {
    if (!postgres.available) return;
    const url = await postgres.service.createDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ db: string }>('select current_database() as db');
    await client.end();
    expect(url.endsWith(`/${rows[0]?.db}`)).toBe(true);
  });
});

describe.runIf(zookeeper.available)('testkit: a real ZooKeeper started for the tests', () => {
  it('answers the four-letter "ruok" command with "imok"', async () => {
    if (!zookeeper.available) return;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(zookeeper.service.port, '127.0.0.1');
      let data = '';
      socket.on('connect', () => socket.write('ruok'));
      socket.on('data', (d) => (data += d.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(answer).toBe('imok');
  });
});

describe('testkit: files a suite needs (a build, recordings)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('answers a path that is there', () => {
    expect(requirePath('a suite', process.cwd(), 'how to get it')).toEqual({
      available: true,
      service: process.cwd(),
    });
  });

  it('skips with a printed reason when it is missing, and fails under GALLEY_REQUIRE_SERVICES=1', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    vi.stubEnv('GALLEY_REQUIRE_SERVICES', '');
    const gate = requirePath('a suite', '/no/such/path', 'build it');
    expect(gate).toEqual({ available: false, reason: 'a suite: /no/such/path is missing (build it)' });
    expect(warn).toHaveBeenCalledWith('SKIPPED a suite: /no/such/path is missing (build it)');
    vi.stubEnv('GALLEY_REQUIRE_SERVICES', '1');
    expect(() => requirePath('a suite', '/no/such/path', 'build it')).toThrow(
      /a suite: \/no\/such\/path is missing \(build it\) \(GALLEY_REQUIRE_SERVICES=1, so this is a failure, not a skip\)/,
    );
  });

  it('finds the built server the e2e suites start (npm test builds it first)', () => {
    const gate = builtGalley('testkit self-test');
    if (gate.available) expect(gate.service).toMatch(/packages\/server\/dist\/bundle\/galley\.js$/);
    else expect(gate.reason).toMatch(/server is not built/);
  });
});
