/**
 * Where a scheduler keeps its framework id between runs (spec §1.5: persist it durably BEFORE
 * doing anything else after SUBSCRIBED; re-subscribe with it after any restart).
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

/** Persists one framework id. */
export interface FrameworkIdStore {
  /** The stored id, or undefined when none was saved (first registration). */
  load(): Promise<string | undefined>;
  /** Stores `id`, replacing any previous one. Resolves once it is durable. */
  save(id: string): Promise<void>;
  /** Forgets the id (after TEARDOWN or removal, it can never be used again). */
  clear(): Promise<void>;
}

/** An in-memory store (lost when the process ends): for tests and throw-away frameworks. */
export function createMemoryFrameworkIdStore(initial?: string): FrameworkIdStore {
  let id = initial;
  return {
    load: async () => id,
    save: async (value) => {
      id = value;
    },
    clear: async () => {
      id = undefined;
    },
  };
}

/**
 * A store in one file holding the id followed by a newline. `save` writes a temporary file in the
 * same directory, fsyncs it, renames it over the target (atomic on POSIX) and fsyncs the
 * directory, so a crash leaves either the old id or the new one, never a torn file.
 */
export function createFileFrameworkIdStore(path: string): FrameworkIdStore {
  return {
    async load() {
      try {
        const text = (await readFile(path, 'utf8')).trim();
        return text === '' ? undefined : text;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async save(id) {
      const temp = join(
        dirname(path),
        `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
      );
      const file = await open(temp, 'w', 0o600);
      try {
        await file.writeFile(`${id}\n`, 'utf8');
        await file.sync();
      } finally {
        await file.close();
      }
      try {
        await rename(temp, path);
      } catch (error) {
        await unlink(temp).catch(() => {});
        throw error;
      }
      await syncDirectory(dirname(path));
    },
    async clear() {
      try {
        await unlink(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      await syncDirectory(dirname(path));
    },
  };
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync().catch(() => {});
  } finally {
    await handle.close();
  }
}
