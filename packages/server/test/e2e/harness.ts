import { galleyCli, galleyRequest, type GalleyProcess, startGalley } from '@galley/testkit';
import { eventually as waitFor, PATIENCE_MS } from '../waits.js';

// The built server as a process comes from @galley/testkit (builtGalley, startGalley); these are
// the e2e suites' shorthands on top of it.

/** A running `galley serve` process. */
export type ServerProcess = GalleyProcess;

/** Starts the built `galley serve --listen 127.0.0.1:0 --data-dir dataDir …args`. */
export function startServer(
  dataDir: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<ServerProcess> {
  return startGalley({ dataDir, args, env });
}

/** Runs the built `galley` CLI against `url`; answers its exit code and output. */
export const galley = galleyCli;

/** A JSON request to the API at `url` (`path` under /api/v1). */
export function http<T = unknown>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  return galleyRequest<T>(url, method, `/api/v1${path}`, body);
}

/** How long a wait may take (shared with the other end-to-end harnesses). */
export { PATIENCE_MS } from '../waits.js';

/** Test options of the e2e suites: room for several waits and process starts on a loaded machine. */
export const PATIENT = { timeout: 180_000 };

/** Waits until `check` answers a value other than undefined (test/waits.ts, the arguments in this suite's order). */
export function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = PATIENCE_MS,
  what = 'the condition',
): Promise<T> {
  return waitFor(what, check, timeoutMs);
}
