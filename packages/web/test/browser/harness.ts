import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  builtGalley,
  type ChromiumInstall,
  findChromium,
  galleyRequest,
  type ServiceGate,
  startGalley as startServer,
} from '@galley/testkit';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, vi } from 'vitest';

/** Where each test writes what a user sees (git-ignored). */
export const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));

/**
 * Chromium, and the built server and UI (the browser tests drive the real server, which serves the
 * built UI); skipped, or failed under GALLEY_REQUIRE_SERVICES=1, when one is missing.
 */
export function browserGate(): ServiceGate<ChromiumInstall> {
  const gate = findChromium();
  if (!gate.available) return gate;
  const built = builtGalley('Browser tests', { web: true });
  return built.available ? gate : built;
}

/** A JSON request to a Galley server (`path` under /api/v1); throws with the answer when it is not 2xx. */
export async function api<T = unknown>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await galleyRequest<T>(url, method, `/api/v1${path}`, body);
  if (res.status < 200 || res.status > 299)
    throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body ?? undefined) as T;
}

/** The fields of a run the tests read. */
export interface RunJson {
  run_id: string;
  status: string;
  exit_code: number | null;
  queued_reason: string | null;
}

/** How long a wait may take: generous, so a loaded machine passes; a real failure still ends it. */
export const PATIENCE_MS = 60_000;

/** Options of `expect.poll` (its default is 1 s, too short for a page on a loaded machine). */
export const POLL = { timeout: PATIENCE_MS, interval: 100 };

/** Waits (vi.waitFor) until `check` answers something other than undefined; answers it. */
export function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = PATIENCE_MS): Promise<T> {
  return vi.waitFor(
    async () => {
      const value = await check();
      if (value === undefined) throw new Error('still waiting');
      return value;
    },
    { timeout: timeoutMs, interval: 100 },
  );
}

/** A `galley serve` child process with its own temporary data directory. */
export interface GalleyProcess {
  url: string;
  output(): string;
  /** Stops every run still active (so no command outlives the test), then the server; removes its data. */
  stop(): Promise<void>;
}

/** Starts the built server (@galley/testkit) on a free port, with a temporary data directory. */
export async function startGalley(args: string[] = []): Promise<GalleyProcess> {
  const server = await startServer({ args: ['--stop-grace-ms', '1000', ...args] });
  const url = server.url;
  return {
    url,
    output: () => server.output(),
    async stop() {
      try {
        // Pipelines outlive the server by design: delete them so none of their processes outlives the test.
        const pipelines = await api<Record<string, unknown>>(url, 'GET', '/pipelines').catch(() => ({}));
        for (const id of Object.keys(pipelines))
          await api(url, 'DELETE', `/pipelines/${id}`).catch(() => undefined);
        await eventually(async () => {
          const left = await api<Record<string, unknown>>(url, 'GET', '/pipelines');
          return Object.keys(left).length === 0 ? true : undefined;
        }).catch(() => undefined);
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
        });
      } finally {
        await server.stop();
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
  context.setDefaultTimeout(PATIENCE_MS);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  Object.assign(page, { problems });
  return { context, page };
}

/** What a browser suite drives: the built server, Chromium, and one page opened on it. */
export interface BrowserSuite {
  galley: GalleyProcess;
  browser: Browser;
  page: Page;
}

/**
 * The set-up every browser suite shares: before its tests, the built server (with `args`, or what
 * `args()` answers then, for flags that name what an earlier beforeAll started) and
 * Chromium start side by side and one page is opened; `ready` then gets them (and seeds what the
 * suite needs); after its tests both stop. Nothing starts when the gate is closed (the suite is
 * skipped). Call it in the describe block, where beforeAll would go.
 */
export function useGalleyAndBrowser(
  gate: ServiceGate<ChromiumInstall>,
  args: string[] | (() => string[]),
  ready: (suite: BrowserSuite) => void | Promise<void>,
): void {
  let galley: GalleyProcess | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (!gate.available) return;
    const flags = typeof args === 'function' ? args() : args;
    [galley, browser] = await Promise.all([startGalley(flags), launchBrowser(gate.service)]);
    const { page } = await newPage(browser);
    await ready({ galley, browser, page });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await galley?.stop();
  });
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
