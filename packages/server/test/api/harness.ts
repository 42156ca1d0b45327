import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { vi } from 'vitest';
import { buildServer, type GalleyServer } from '../../src/app.js';
import { resolveConfig } from '../../src/config/config.js';
import type { FlatConfig } from '../../src/config/options.js';

/** A whole server (PGlite in a temp dir, local backend) for app.inject tests. */
export async function startTestServer(
  over: {
    cpus?: number;
    databaseUrl?: string;
    webDist?: string | null;
    /** More settings, by config key (`httpRequestTimeoutMs: '1000'`). */
    flags?: Partial<Record<keyof FlatConfig, string>>;
  } = {},
): Promise<GalleyServer & { dataDir: string; stop(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'galley-api-'));
  const config = resolveConfig({
    env: {},
    flags: {
      listen: '127.0.0.1:0',
      dataDir,
      localCpus: String(over.cpus ?? 4),
      localMemoryMb: '8192',
      stopGraceMs: '300',
      adoptCheckMs: '50',
      logFollowMs: '50',
      retryInitialDelayMs: '50',
      containerRuntime: 'none',
      ...(over.databaseUrl ? { databaseUrl: over.databaseUrl } : {}),
      ...over.flags,
    },
  });
  const server = await buildServer(config, {
    logger: pino({ level: 'silent' }),
    webDist: over.webDist ?? null,
  });
  return Object.assign(server, {
    dataDir,
    async stop() {
      await server.close();
      // Runs outlive the server by design; a test's leftovers must not outlive the test.
      await killLeftoverProcesses(dataDir);
      await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  });
}

/** SIGKILLs the process group of every supervisor that recorded a `pid` file under `dir`. */
async function killLeftoverProcesses(dir: string): Promise<void> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  for (const entry of entries) {
    if (entry !== 'pid' && !entry.endsWith('/pid')) continue;
    const pid = Number((await readFile(join(dir, entry), 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 1) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** Waits (vi.waitFor, generous for a loaded machine) until `check` answers a value other than undefined. */
export function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  return vi.waitFor(
    async () => {
      const value = await check();
      if (value === undefined) throw new Error('still waiting');
      return value;
    },
    { timeout: timeoutMs, interval: 20 },
  );
}

/** The seed's hello-world definition (flotilla-os.md, "Defining your first task"). */
export const HELLO_WORLD = {
  alias: 'hello-flotilla',
  group_name: 'examples',
  image: 'ubuntu:latest',
  memory: 512,
  env: [{ name: 'USERNAME', value: '_fill_me_in_' }],
  command: 'echo "hello ${USERNAME}"',
};

/** The seed's execute body (flotilla-os.md, "Running your first task"). */
export const HELLO_EXECUTE = {
  cluster: 'default',
  env: [{ name: 'USERNAME', value: 'yourusername' }],
  run_tags: { owner_id: 'youruser' },
};
