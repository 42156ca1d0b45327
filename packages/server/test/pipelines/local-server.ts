import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startServer, type ServerProcess } from '../e2e/harness.js';
import { deleteAllPipelines } from './harness.js';

/** A describe block's local server: its address and data directory, once started. */
export interface LocalPipelineServer {
  url(): string;
  /** The test's own directory (the data directory is `data` in it). */
  dir(): string;
  data(): string;
}

/**
 * The local set-up of a describe block of pipeline tests: the BUILT server in host mode on a data
 * directory of its own (readable by `nobody`, whom jobs run as under root), 4 cpus and 4 GB;
 * after its tests every pipeline is deleted first, so no instance's processes outlive the suite.
 */
export function useLocalPipelineServer(prefix: string, args: string[] = []): LocalPipelineServer {
  let dir = '';
  let server: ServerProcess | null = null;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    await mkdir(join(dir, 'data'));
    await chmod(dir, 0o755);
    await chmod(join(dir, 'data'), 0o755);
    server = await startServer(join(dir, 'data'), [
      '--local-cpus',
      '4',
      '--local-memory-mb',
      '4096',
      ...args,
    ]);
  }, 120_000);
  afterAll(async () => {
    if (server) {
      await deleteAllPipelines(server.url);
      await server.stop();
    }
    await rm(dir, { recursive: true, force: true });
  }, 120_000);
  return { url: () => server!.url, dir: () => dir, data: () => join(dir, 'data') };
}
