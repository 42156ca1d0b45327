// The benchmark's baseline: a bare fastify route doing one INSERT into the same kind of database
// as Galley's store (PGlite in a temp dir, or PostgreSQL at DATABASE_URL). Run as a child process
// by api.ts; prints `listening <url>` when ready.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { createPgClient } from '../src/store/pg-client.js';
import { createPgliteClient } from '../src/store/pglite-client.js';

const url = process.env['DATABASE_URL'];
const db = url
  ? createPgClient({ url, max: 10 })
  : await createPgliteClient(join(await mkdtemp(join(tmpdir(), 'galley-baseline-')), 'db'));
await db.exec(
  'CREATE TABLE IF NOT EXISTS baseline (id text PRIMARY KEY, owner text NOT NULL, body jsonb NOT NULL, at bigint NOT NULL)',
);
const app = Fastify();
let n = 0;
app.put('/insert', async (req) => {
  const id = `${process.pid}-${n++}`;
  await db.query('INSERT INTO baseline (id, owner, body, at) VALUES ($1, $2, $3, $4)', [
    id,
    'bench',
    JSON.stringify(req.body),
    Date.now(),
  ]);
  return { id };
});
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${address}\n`);
