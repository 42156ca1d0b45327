import { open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The embedded store (PGlite) is one process's: a second server on the same data directory would
 * corrupt it. The first takes `<dir>/db.lock`, a file with its pid and its process start time;
 * another server finds it and refuses to start, unless that process is gone (or its pid was
 * reused by another program: the start time differs), as after a SIGKILL — then it takes over
 * the lock.
 */

/** A server already uses the data directory. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  readonly code = 'DATA_DIR_IN_USE';
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the data directory ${dataDir} is in use by another Galley server (pid ${pid}); the embedded ` +
        `store (PGlite) serves one process only: stop that server, choose another --data-dir, or ` +
        `run several replicas on PostgreSQL (--database-url)`,
    );
  }
}

/** The lock file's content. */
interface Holder {
  pid: number;
  /** The process's start time (clock ticks since boot, /proc/<pid>/stat field 22); null where unknown. */
  start: string | null;
}

/** A process's start time, null when it does not exist (or /proc is not there). */
function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: fields follow the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the lock's holder still runs. */
function alive(holder: Holder): boolean {
  if (holder.pid === process.pid) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (holder.start === null) return true;
  const start = startTimeOf(holder.pid);
  return start === null ? !existsProc() : start === holder.start;
}

/** True where /proc tells start times (Linux). */
function existsProc(): boolean {
  return startTimeOf(process.pid) !== null;
}

async function readHolder(path: string): Promise<Holder | null> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<Holder>;
    if (typeof parsed.pid !== 'number') return null;
    return { pid: parsed.pid, start: typeof parsed.start === 'string' ? parsed.start : null };
  } catch {
    return null;
  }
}

/** A held lock; `release()` removes it. */
export interface DataDirLock {
  release(): Promise<void>;
}

/**
 * Takes the data directory's lock for this process, or throws DataDirLockedError when another
 * live server holds it. A stale lock (its process is gone) is replaced.
 */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const path = join(dir, 'db.lock');
  const me: Holder = { pid: process.pid, start: startTimeOf(process.pid) };
  const content = JSON.stringify(me);
  for (let tries = 0; tries < 5; tries++) {
    try {
      const file = await open(path, 'wx');
      try {
        await file.writeFile(content);
        await file.sync();
      } finally {
        await file.close();
      }
      return { release: () => release(path, me) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readHolder(path);
    if (holder && alive(holder)) throw new DataDirLockedError(dir, holder.pid);
    // Stale: its server is gone (or died while writing it). Replacing it is serialised by a second
    // file taken the same way, so of two servers starting at once only one replaces it.
    if (await takeOver(path, holder, me)) return { release: () => release(path, me) };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const holder = await readHolder(path);
  throw new DataDirLockedError(dir, holder?.pid ?? -1);
}

/** Replaces the stale lock `seen` with `me`, unless someone else is doing it; true when done. */
async function takeOver(path: string, seen: Holder | null, me: Holder): Promise<boolean> {
  const guard = `${path}.takeover`;
  try {
    const file = await open(guard, 'wx');
    await file.writeFile(JSON.stringify(me));
    await file.close();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const other = await readHolder(guard);
    if (!other || !alive(other)) await unlink(guard).catch(() => undefined);
    return false;
  }
  try {
    const now = await readHolder(path);
    if (JSON.stringify(now) !== JSON.stringify(seen)) return false;
    const temp = `${path}.${process.pid}`;
    await writeFile(temp, JSON.stringify(me));
    await rename(temp, path);
    return true;
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

async function release(path: string, me: Holder): Promise<void> {
  const holder = await readHolder(path);
  if (holder?.pid === me.pid && holder.start === me.start) await unlink(path).catch(() => undefined);
}
