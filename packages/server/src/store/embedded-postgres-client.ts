import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import type { SqlClient } from './sql-client.js';

/** The subdirectory of the data directory each embedded store keeps its files in. */
const STORE_DIRS = { pglite: 'db', 'embedded-postgres': 'pg' } as const;

/** An embedded store's files are in the data directory but `--store` names the other one. */
export class OtherEmbeddedStoreError extends Error {
  override readonly name = 'OtherEmbeddedStoreError';
}

/**
 * Refuses to open `engine` on a data directory that holds the other embedded store: it would
 * start empty beside the runs of the other, which would seem lost.
 */
export function refuseOtherEmbeddedStore(dataDir: string, engine: keyof typeof STORE_DIRS): void {
  const other = engine === 'pglite' ? 'embedded-postgres' : 'pglite';
  if (!existsSync(join(dataDir, STORE_DIRS[other], 'PG_VERSION'))) return;
  if (existsSync(join(dataDir, STORE_DIRS[engine], 'PG_VERSION'))) return;
  throw new OtherEmbeddedStoreError(
    `the data directory ${dataDir} holds a ${other} store (${STORE_DIRS[other]}/), not a ${engine} ` +
      `one: start with --store ${other}, or choose another --data-dir (the two do not share their data)`,
  );
}

/**
 * The store's SqlClient over Galley's own PostgreSQL on `dataDir/pg` (started here, stopped by
 * `close()` after the pool): the same `pg` client as with --database-url, over a Unix socket.
 */
export async function openEmbeddedPostgres(dataDir: string, poolSize: number): Promise<SqlClient> {
  refuseOtherEmbeddedStore(dataDir, 'embedded-postgres');
  const server = await startEmbeddedPostgres(dataDir);
  try {
    const { createPgClient } = await import('./pg-client.js');
    const pool = createPgClient({ url: server.url, max: poolSize });
    return {
      kind: pool.kind,
      query: pool.query,
      exec: pool.exec,
      transaction: pool.transaction,
      async close() {
        try {
          await pool.close();
        } finally {
          await server.stop();
        }
      },
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}
