import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { distPath } from '../dist-paths.js';
import { PgliteStatements } from './pglite-statements.js';
import { type SqlClient, type SqlQuerier, type SqlResult, toSqlError } from './sql-client.js';

/**
 * PostgreSQL's buffer cache inside PGlite's WebAssembly memory. PostgreSQL's default (128MB) is
 * for a server of its own; here it is resident memory of Galley's process (measured idle, PGlite
 * alone: 307 MB at 128MB, 190 MB at 16MB, 160 MB at 4MB). The store's files are local and cached by
 * the OS besides. 8MB against 16MB: the idle server 6–12 MB smaller, and `bench:mesos` (5,000
 * runs) the same within its noise (642 and 647 runs/s against 619 and 660, taking turns).
 */
const SHARED_BUFFERS = '8MB';

/** The compiled initdb helper beside this module (absent when running from sources, in tests). */
const INIT_SCRIPT = distPath('store/pglite-init.js');

/**
 * Creates a new data directory in a child process when the compiled helper is there (see
 * pglite-init.ts for why), else here: PGlite.create on an empty directory runs initdb itself.
 * Used only without the build's template (see pglite-template.ts, which open.ts copies).
 */
async function initInChild(dataDir: string): Promise<void> {
  if (!existsSync(INIT_SCRIPT)) return;
  try {
    await promisify(execFile)(process.execPath, [INIT_SCRIPT, dataDir], { timeout: 300_000 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`could not create the embedded database in ${dataDir}: ${e.stderr || e.message}`, {
      cause: err,
    });
  }
}

/**
 * A SqlClient over embedded PGlite (PostgreSQL compiled to WebAssembly) whose files live in
 * `dataDir`, so the store survives restarts. `dataDir` undefined means in memory (tests only).
 * PGlite runs one statement at a time; callers need no pool.
 */
export async function createPgliteClient(dataDir: string | undefined): Promise<SqlClient> {
  if (dataDir !== undefined) {
    await mkdir(dataDir, { recursive: true });
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await initInChild(dataDir);
  }
  const db = await PGlite.create({
    ...(dataDir === undefined ? {} : { dataDir }),
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`],
  });
  // The embedded database's pages are local and mostly in the OS cache: an index probe costs
  // about what a sequential page read does. With PostgreSQL's disk default (4) the planner turns
  // a batch of changes into a sequential scan of `runs` (measured 6 ms instead of 1 ms for 100
  // changes against 10,000 runs), since PGlite never refreshes table statistics on its own.
  await db.exec('SET random_page_cost = 1.1');
  const statements = new PgliteStatements(db);
  // One operation at a time, in the order asked, as PGlite's own locks would: the prepared
  // statements' calls into PGlite take none of them.
  let tail: Promise<unknown> = Promise.resolve();
  let closed = false;
  const serial = <T>(fn: () => Promise<T>, ifClosed?: () => T): Promise<T> => {
    const run = tail.then(() => {
      if (!closed) return fn();
      if (ifClosed) return ifClosed();
      throw new Error('the embedded database is closed');
    });
    tail = run.catch(() => undefined);
    return run;
  };
  const query = async <R>(text: string, params: readonly unknown[] | undefined, inTransaction: boolean) => {
    try {
      const result = await statements.run<R>(text, params ?? [], inTransaction);
      return { rows: result.rows, rowCount: result.affectedRows ?? 0 };
    } catch (err) {
      throw toSqlError(err);
    }
  };
  const exec = async (q: Pick<PGlite, 'exec'>, script: string) => {
    try {
      await q.exec(script);
    } catch (err) {
      throw toSqlError(err);
    }
  };
  return {
    kind: 'pglite',
    query: <R>(text: string, params?: readonly unknown[]): Promise<SqlResult<R>> =>
      serial(() => query<R>(text, params, false)),
    exec: (script) => serial(() => exec(db, script)),
    transaction: <T>(fn: (tx: SqlQuerier) => Promise<T>) =>
      serial(async () => {
        try {
          return await db.transaction((tx) =>
            fn({
              query: <R>(text: string, params?: readonly unknown[]) => query<R>(text, params, true),
              exec: (script) => exec(tx, script),
            }),
          );
        } catch (err) {
          throw toSqlError(err);
        }
      }),
    close: () =>
      serial(
        async () => {
          closed = true;
          await db.close();
        },
        () => undefined,
      ),
  };
}
