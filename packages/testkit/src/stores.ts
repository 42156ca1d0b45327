import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from './postgres.js';

/** Where a store lives: an embedded PGlite data directory, or a PostgreSQL database. */
export type StoreLocation = { dataDir: string } | { databaseUrl: string };

/** One of the stores a suite runs on. */
export interface StoreUnderTest {
  name: 'PGlite' | 'PostgreSQL';
  /** False when PostgreSQL is not installed (already printed as a skip, or thrown in CI). */
  available: boolean;
  /** A fresh, empty store: a new temporary data directory, or a new database. */
  location(): Promise<StoreLocation>;
  /**
   * The environment that points a `galley serve` process at a fresh store of this kind: `{}` for
   * PGlite (it lives in the server's data directory), `DATABASE_URL` of a new database otherwise.
   */
  serverEnv(): Promise<Record<string, string>>;
}

/** The store matrix of a test file, and what it started. */
export interface StoreMatrix {
  stores: StoreUnderTest[];
  /** Stops PostgreSQL (when it was started for this file) and removes the PGlite directories. */
  stop(): Promise<void>;
}

/**
 * "Run this suite on PGlite and on PostgreSQL": embedded PGlite, and a real PostgreSQL started
 * with `startPostgres` (or GALLEY_TEST_DATABASE_URL). Use at a test file's top level:
 *
 *     const matrix = await storeMatrix();
 *     afterAll(() => matrix.stop());
 *     for (const store of matrix.stores)
 *       describe.runIf(store.available)(`… on ${store.name}`, () => { … store.location() … });
 */
export async function storeMatrix(options: { tempPrefix?: string } = {}): Promise<StoreMatrix> {
  const pg = await startPostgres();
  const dirs: string[] = [];
  const stores: StoreUnderTest[] = [
    {
      name: 'PGlite',
      available: true,
      async location() {
        const dir = await mkdtemp(join(tmpdir(), options.tempPrefix ?? 'galley-store-'));
        dirs.push(dir);
        return { dataDir: dir };
      },
      serverEnv: async () => ({}),
    },
    {
      name: 'PostgreSQL',
      available: pg.available,
      async location() {
        if (!pg.available) throw new Error(pg.reason);
        return { databaseUrl: await pg.service.createDatabase() };
      },
      async serverEnv() {
        if (!pg.available) throw new Error(pg.reason);
        return { DATABASE_URL: await pg.service.createDatabase() };
      },
    },
  ];
  return {
    stores,
    async stop() {
      if (pg.available) await pg.service.stop();
      for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
    },
  };
}
