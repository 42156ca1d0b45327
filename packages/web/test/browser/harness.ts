import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ChromiumInstall, findChromium, type ServiceGate, unavailable } from '@galley/testkit';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** The built `galley` CLI: the browser tests drive the real server, which serves the built UI. */
export const SERVER_MAIN = fileURLToPath(new URL('../../../server/dist/cli/main.js', import.meta.url));
const WEB_INDEX = fileURLToPath(new URL('../../dist/index.html', import.meta.url));
/** Where each test writes what a user sees (git-ignored). */
export const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));

/** Chromium, and the built server and UI; skipped (or failed, in CI) when one is missing. */
export function browserGate(): ServiceGate<ChromiumInstall> {
  const gate = findChromium();
  if (!gate.available) return gate;
  if (!existsSync(SERVER_MAIN) || !existsSync(WEB_INDEX)) {
    return unavailable('Browser tests', 'the server or the web UI is not built (run `npm run build`)');
  }
  return gate;
}

/** A JSON request to a Galley server; throws with the answer when it is not 2xx. */
export async function api<T = unknown>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** The fields of a run the tests read. */
export interface RunJson {
  run_id: string;
  status: string;
  exit_code: number | null;
  queued_reason: string | null;
}

/** Polls `check` until it answers something other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A `galley serve` child process with its own temporary data directory. */
export interface GalleyProcess {
  url: string;
  output(): string;
  /** Stops every run still active (so no command outlives the test), then the server; removes its data. */
  stop(): Promise<void>;
}

/** Starts the real server on a free port (`--listen 127.0.0.1:0`) and waits for the address it prints. */
export async function startGalley(args: string[] = []): Promise<GalleyProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'galley-web-'));
  const proc: ChildProcess = spawn(
    process.execPath,
    [
      SERVER_MAIN,
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--data-dir',
      dataDir,
      '--stop-grace-ms',
      '1000',
      ...args,
    ],
    { env: { ...process.env, GALLEY_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`galley serve did not start:\n${output}`)), 45_000);
    const check = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stderr?.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`galley serve exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    output: () => output,
    async stop() {
      try {
        // Pipelines outlive the server by design: delete them so none of their processes outlives the test.
        const pipelines = await api<Record<string, unknown>>(url, 'GET', '/pipelines').catch(() => ({}));
        for (const id of Object.keys(pipelines))
          await api(url, 'DELETE', `/pipelines/${id}`).catch(() => undefined);
        await eventually(async () => {
          const left = await api<Record<string, unknown>>(url, 'GET', '/pipelines');
          return Object.keys(left).length === 0 ? true : undefined;
        }, 20_000).catch(() => undefined);
        const active = await api<{ history: RunJson[] }>(
          url,
          'GET',
          '/history?status=QUEUED&status=PENDING&status=RUNNING&status=NEEDS_RETRY&limit=1000',
        );
        await Promise.all(
          active.history.map((r) => api(url, 'POST', `/history/${r.run_id}/stop`).catch(() => undefined)),
        );
        await eventually(async () => {
          const left = await api<{ total: number }>(
            url,
            'GET',
            '/history?status=PENDING&status=RUNNING&limit=1',
          );
          return left.total === 0 ? true : undefined;
        }, 20_000);
      } finally {
        proc.kill('SIGTERM');
        await exited;
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** Launches Debian's Chromium headless with the flags this machine needs. */
export function launchBrowser(install: ChromiumInstall): Promise<Browser> {
  return chromium.launch({ executablePath: install.executablePath, args: install.args, timeout: 60_000 });
}

/** A fresh browser context (own storage) at a desktop size; `dark` emulates prefers-color-scheme: dark. */
export async function newPage(
  browser: Browser,
  options: { dark?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    colorScheme: options.dark ? 'dark' : 'light',
    reducedMotion: 'reduce',
  });
  context.setDefaultTimeout(30_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  Object.assign(page, { problems });
  return { context, page };
}

/** Uncaught errors the page threw so far (a test checks there were none). */
export function pageErrors(page: Page): string[] {
  return (page as Page & { problems?: string[] }).problems ?? [];
}

/** Saves a full-page screenshot as test-output/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The hello-world task of flotilla's README ("Defining your first task"). */
export const HELLO_WORLD = {
  alias: 'hello-flotilla',
  group_name: 'examples',
  image: 'ubuntu:latest',
  memory: 512,
  env: [{ name: 'USERNAME', value: '_fill_me_in_' }],
  command: 'echo "hello ${USERNAME}"',
};
