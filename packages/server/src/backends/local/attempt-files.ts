import { statSync } from 'node:fs';
import { access, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogChunk } from '../backend.js';

/**
 * The supervisor every local attempt runs under: `/bin/sh -c SUPERVISOR galley-attempt DIR COMMAND`.
 * It records its pid, runs the command in the foreground, and writes the command's exit status to
 * DIR/exit, so a server that was down while the command ended can still read it. Its
 * TERM/INT/HUP/USR1/USR2 trap (USR1/USR2: a process's `drain.signal`) only defers those signals: a stop signals the whole process group, the command gets the
 * default action, and the supervisor lives on long enough to record the status. It starts in DIR
 * and writes there by relative paths: a job run as another user (`--run-as`) reaches its own
 * directory, not the data directory above it (0700).
 */
export const SUPERVISOR = `trap 'galley_stop=1' TERM INT HUP USR1 USR2
echo $$ > pid
/bin/sh -c "$2"
code=$?
echo $code > exit
exit $code`;

/** The line written where a capped log stops. */
export function logCapNote(maxBytes: number): string {
  const mb = Math.round((maxBytes / (1024 * 1024)) * 10) / 10;
  return `\n[galley] this log reached its cap of ${mb} MB per attempt (--local-log-max-mb); later output was dropped\n`;
}

/**
 * Keeps an output file within `maxBytes` (plus the note): once it is longer, it is cut back to
 * its first `maxBytes` and the note is written after them. The program keeps writing (it appends),
 * so this runs again on the next look and the file stays within a look's worth of output of the
 * cap. Answers whether it cut. A missing file is not an error.
 */
export async function capLogFile(path: string, maxBytes: number): Promise<boolean> {
  const note = Buffer.from(logCapNote(maxBytes));
  // A stat of each running process's logs every second: synchronous, a metadata call with no
  // promise, handle or thrown error (a missing file) to pay for.
  const size = statSync(path, { throwIfNoEntry: false })?.size;
  if (size === undefined || size <= maxBytes + note.length) return false;
  const file = await open(path, 'r+');
  try {
    await file.truncate(maxBytes);
    await file.write(note, 0, note.length, maxBytes);
  } finally {
    await file.close();
  }
  return true;
}

/** argv[0] of the supervisor, so it is recognizable in `ps`. */
export const SUPERVISOR_NAME = 'galley-attempt';

/** Directory of one attempt: `<dataDir>/runs/<runId>/<seq>`. */
export function attemptDir(dataDir: string, runId: string, seq: number): string {
  return join(dataDir, 'runs', runId, String(seq));
}

/** The exit code the supervisor recorded; null when it has not (yet), or the file is incomplete. */
export async function readExitFile(dir: string): Promise<{ code: number; at: number } | null> {
  try {
    const [text, info] = await Promise.all([readFile(join(dir, 'exit'), 'utf8'), stat(join(dir, 'exit'))]);
    if (!/^\d+\n$/.test(text)) return null;
    return { code: Number(text.trim()), at: Math.round(info.mtimeMs) };
  } catch {
    return null;
  }
}

/** The pid the supervisor recorded; null when none (yet). */
export async function readPidFile(dir: string): Promise<number | null> {
  try {
    const text = await readFile(join(dir, 'pid'), 'utf8');
    return /^\d+\n$/.test(text) ? Number(text.trim()) : null;
  } catch {
    return null;
  }
}

/**
 * Reads at most `maxBytes` of `path` from `offset`: one positioned read, so the cost is the page,
 * never the file. A missing file reads as empty.
 */
export async function readLogChunk(path: string, offset: number, maxBytes: number): Promise<LogChunk> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return { data: Buffer.alloc(0), nextOffset: offset, size: 0 };
    throw err;
  }
  try {
    const { size } = await handle.stat();
    const length = Math.max(0, Math.min(maxBytes, size - offset));
    if (length === 0) return { data: Buffer.alloc(0), nextOffset: offset, size };
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return { data: buffer.subarray(0, bytesRead), nextOffset: offset + bytesRead, size };
  } finally {
    await handle.close();
  }
}

/** The last non-empty line of a file's last 1 KiB (at most 200 characters); '' when none. */
export async function lastLine(path: string): Promise<string> {
  try {
    const { size } = await stat(path);
    const { data } = await readLogChunk(path, Math.max(0, size - 1024), 1024);
    const lines = data
      .toString('utf8')
      .split('\n')
      .map((x) => x.trim())
      .filter(Boolean);
    return (lines.at(-1) ?? '').slice(0, 200);
  } catch {
    return '';
  }
}

/** Whether `path` exists. */
export async function pathExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
