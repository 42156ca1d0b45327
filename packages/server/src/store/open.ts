import { join } from 'node:path';
import { loadMigrations, migrate } from './migrate.js';
import type { SqlClient } from './sql-client.js';
import { createSqlStore, type SqlBackedStore } from './sql-store.js';
import { type DataDirLock, lockDataDir } from './data-dir-lock.js';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { openEmbeddedPostgres, refuseOtherEmbeddedStore } from './embedded-postgres-client.js';

/**
 * Where the store lives: a PostgreSQL URL, or an embedded store in the data directory — PGlite's
 * files in `dataDir/db` (undefined = memory), or `engine: 'embedded-postgres'`: a PostgreSQL server
 * of Galley's own on `dataDir/pg` (see embedded-postgres.ts).
 */
export type StoreLocation =
  | { databaseUrl: string }
  | { dataDir: string | undefined; engine?: 'pglite' }
  | { dataDir: string; engine: 'embedded-postgres' };

/**
 * Opens the store and applies pending migrations. PostgreSQL when `databaseUrl` is given,
 * embedded PGlite otherwise: then the data directory is locked for this process (a second server
 * on it gets DataDirLockedError) until `close()`. `onIdleError` receives errors of idle
 * PostgreSQL connections; `origin` (this replica's id) makes PostgreSQL writes notify the other
 * replicas (see notify.ts).
 */
export async function openStore(
  location: StoreLocation,
  options: {
    onIdleError?: (err: Error) => void;
    poolSize?: number;
    origin?: string;
    /** PostgreSQL: see PgClientOptions.idleInTransactionMs. */
    idleInTransactionMs?: number;
  } = {},
): Promise<SqlBackedStore> {
  let client: SqlClient;
  let lock: DataDirLock | null = null;
  let origin = options.origin;
  if ('databaseUrl' in location) {
    // pg (about 16 MB resident) loads only for PostgreSQL, not with the embedded store.
    const { createPgClient } = await import('./pg-client.js');
    client = createPgClient({
      url: location.databaseUrl,
      max: options.poolSize ?? 10,
      ...(options.onIdleError ? { onIdleError: options.onIdleError } : {}),
      ...(options.idleInTransactionMs !== undefined
        ? { idleInTransactionMs: options.idleInTransactionMs }
        : {}),
    });
  } else {
    if (location.dataDir !== undefined) {
      await mkdir(location.dataDir, { recursive: true });
      lock = await lockDataDir(location.dataDir);
    }
    try {
      if (location.engine === 'embedded-postgres') {
        client = await openEmbeddedPostgres(location.dataDir, options.poolSize ?? 10);
        // Galley's own PostgreSQL has no other replica to notify.
        origin = undefined;
      } else {
        if (location.dataDir !== undefined) refuseOtherEmbeddedStore(location.dataDir, 'pglite');
        // PGlite (its WebAssembly) loads only for PGlite.
        const { createPgliteClient } = await import('./pglite-client.js');
        const db = location.dataDir === undefined ? undefined : join(location.dataDir, 'db');
        // A new store starts as a copy of the build's (see pglite-template.ts).
        if (db !== undefined && !existsSync(join(db, 'PG_VERSION'))) {
          const { copyTemplate } = await import('./pglite-template.js');
          await copyTemplate(db);
        }
        client = await createPgliteClient(db);
      }
    } catch (err) {
      await lock?.release();
      throw err;
    }
  }
  try {
    await migrate(client, await loadMigrations());
  } catch (err) {
    await client.close().catch(() => undefined);
    await lock?.release();
    throw err;
  }
  const store = createSqlStore(client, origin === undefined ? {} : { origin });
  if (!lock) return store;
  const held = lock;
  return {
    ...store,
    async close() {
      try {
        await store.close();
      } finally {
        await held.release();
      }
    },
  };
}
