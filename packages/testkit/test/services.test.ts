import { connect } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startPostgres, startZooKeeper } from '@galley/testkit';

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
