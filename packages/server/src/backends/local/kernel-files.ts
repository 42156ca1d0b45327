import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Reading the kernel's small in-memory files (cgroup interface files, /proc/<pid>/stat) whole and
 * synchronously. Apart so both the /proc reader and the cgroup readers use it.
 */

/** One buffer for every small interface file read (they are read whole, synchronously). */
const SMALL = Buffer.allocUnsafe(8192);

/**
 * The text of a cgroup interface file (or another small kernel file); null when it cannot be read.
 * Read synchronously into one shared buffer: these files live in memory, report a size of 0 (so
 * `readFile` reads them in 64 KiB chunks), and a promise per open, stat, read and close cost the
 * server more CPU than the kernel's work — several such files are read for every run attempt.
 */
export function readSmallFile(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    let length = 0;
    for (;;) {
      const n = readSync(fd, SMALL, length, SMALL.length - length, null);
      if (n === 0 || (length += n) === SMALL.length) break;
    }
    return SMALL.toString('utf8', 0, length);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** A file holding one number (a cgroup counter); null when absent or not a number. */
export function readNumberFile(path: string): number | null {
  const text = readSmallFile(path);
  if (text === null) return null;
  const n = Number(text.trim());
  return Number.isFinite(n) ? n : null;
}
