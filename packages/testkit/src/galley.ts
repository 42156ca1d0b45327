import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requirePath, type ServiceGate } from './services.js';

/**
 * The built Galley server as a real process, for the end-to-end suites (server e2e, Mesos e2e,
 * pipelines, browser): one way to find it, start it, call its API and its CLI, and stop it.
 */

/** The built `galley` CLI (`packages/server/dist/bundle/galley.js`, the bundle `npm test` builds). */
export const GALLEY_MAIN = fileURLToPath(new URL('../../server/dist/bundle/galley.js', import.meta.url));

/** The built web UI the server serves at `/` (`packages/web/dist/index.html`). */
export const GALLEY_WEB_INDEX = fileURLToPath(new URL('../../web/dist/index.html', import.meta.url));

/**
 * The built server (and, with `web`, the built UI) for the suite `what`: available, or a printed
 * skip — a failure under GALLEY_REQUIRE_SERVICES=1, so CI never passes by skipping. The service is
 * the path of the CLI. Use with `describe.runIf(gate.available)`.
 */
export function builtGalley(what: string, options: { web?: boolean } = {}): ServiceGate<string> {
  const server = requirePath(
    what,
    GALLEY_MAIN,
    'the server is not built: `npx tsc -b && npm run build -w @galley/server`, which `npm test` runs',
  );
  if (!server.available || options.web !== true) return server;
  const web = requirePath(what, GALLEY_WEB_INDEX, 'the web UI is not built: `npm run build -w @galley/web`');
  return web.available ? server : web;
}

/** A running `galley serve`. */
export interface GalleyProcess {
  /** `http://127.0.0.1:<port>`, as the server printed it. */
  url: string;
  dataDir: string;
  proc: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** SIGKILL (a crash), and wait until it is gone. The data directory stays, for a restart. */
  kill(): Promise<void>;
  /**
   * SIGTERM, and wait for its exit; answers the exit code. Removes the data directory when it was
   * made by `startGalley`.
   */
  stop(): Promise<number | null>;
}

export interface StartGalleyOptions {
  /** The server's data directory; a new temporary one (removed by `stop()`) when absent. */
  dataDir?: string;
  /** Flags after `serve --listen 127.0.0.1:0 --data-dir DIR`. */
  args?: string[];
  /**
   * Added to this process's environment. GALLEY_LOG_LEVEL is `warn` (or GALLEY_TEST_LOG_LEVEL);
   * GALLEY_CONTAINER_RUNTIME is `none` (host mode) unless given here or as a flag.
   */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for its "listening on" line; generous, as node starts slowly on a loaded machine. */
  startTimeoutMs?: number;
}

/**
 * Starts the built server (`galley serve --listen 127.0.0.1:0 --data-dir DIR …args`) and waits for
 * the address it prints. A server that exits or does not start in time is killed and reported with
 * its output.
 */
export async function startGalley(options: StartGalleyOptions = {}): Promise<GalleyProcess> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'galley-serve-')));
  const proc = spawn(
    process.execPath,
    [GALLEY_MAIN, 'serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...(options.args ?? [])],
    {
      env: {
        ...process.env,
        GALLEY_LOG_LEVEL: process.env['GALLEY_TEST_LOG_LEVEL'] ?? 'warn',
        // Host mode unless the suite asks for a container runtime (a flag or this variable), so
        // suites that do not test containers run alike with and without one installed.
        GALLEY_CONTAINER_RUNTIME: 'none',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const running = () => proc.exitCode === null && proc.signalCode === null;
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`galley serve did not start in ${timeoutMs} ms:\n${output}`)),
        timeoutMs,
      );
      const check = () => {
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (m?.[1] === undefined) return;
        clearTimeout(timer);
        resolve(m[1]);
      };
      proc.stdout!.on('data', check);
      proc.stderr!.on('data', check);
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`galley serve exited (${code ?? signal}) before it listened:\n${output}`));
      });
    });
    return {
      url,
      dataDir,
      proc,
      output: () => output,
      async kill() {
        if (running()) proc.kill('SIGKILL');
        await exited;
      },
      async stop() {
        if (running()) proc.kill('SIGTERM');
        const code = await exited;
        if (ownDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
        return code;
      },
    };
  } catch (err) {
    if (running()) proc.kill('SIGKILL');
    await exited;
    if (ownDir) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Runs the built CLI against the server at `url` (GALLEY_URL); answers its exit code and output.
 * The timeout is generous: it only ends a CLI that hangs.
 */
export function galleyCli(
  url: string,
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [GALLEY_MAIN, ...args],
      { env: { ...process.env, GALLEY_URL: url }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * A request to the server at `url` + `path` (no prefix added), asking for JSON. `body` is sent as
 * JSON, or as is when it is a string (to send broken JSON). The answer's body is parsed as JSON
 * when it is JSON, else it is the text (null when empty).
 */
export async function galleyRequest<T = unknown>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed as T };
}
