import { join } from 'node:path';
import { loadMigrations, migrate } from './migrate.js';
import { createPgClient } from './pg-client.js';
import { createPgliteClient } from './pglite-client.js';
import type { SqlClient } from './sql-client.js';
import { createSqlStore } from './sql-store.js';
import type { Store } from './store.js';

/** Where the store lives: a PostgreSQL URL, or PGlite files in `dataDir/db` (undefined = memory). */
export type StoreLocation = { databaseUrl: string } | { dataDir: string | undefined };

/**
 * Opens the store and applies pending migrations. PostgreSQL when `databaseUrl` is given,
 * embedded PGlite otherwise. `onIdleError` receives errors of idle PostgreSQL connections.
 */
export async function openStore(
  location: StoreLocation,
  options: { onIdleError?: (err: Error) => void; poolSize?: number } = {},
): Promise<Store> {
  let client: SqlClient;
  if ('databaseUrl' in location) {
    client = createPgClient({
      url: location.databaseUrl,
      max: options.poolSize ?? 10,
      ...(options.onIdleError ? { onIdleError: options.onIdleError } : {}),
    });
  } else {
    client = await createPgliteClient(
      location.dataDir === undefined ? undefined : join(location.dataDir, 'db'),
    );
  }
  try {
    await migrate(client, await loadMigrations());
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
  return createSqlStore(client);
}
